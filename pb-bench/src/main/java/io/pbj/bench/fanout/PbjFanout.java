package io.pbj.bench.fanout;

import io.pbj.Backpressure;
import io.pbj.PbClient;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.internal.SharedClientGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * PBJ with its defaults: a server offering one {@link Ticker} (default {@link Backpressure}) and
 * one {@link PbClient} per observer, each holding a {@link TickerCache}. Pushes are {@code
 * RemoteObserver.callRemoteAll} from the benchmark thread, which encodes each update once for all
 * observers, or (with {@code eachObserver}) {@code RemoteObserver.callRemote} on each observer,
 * which encodes it once per observer; updates run on each client's executor.
 *
 * <p>With {@code clientThreads > 0} the clients share that many event-loop threads (and an
 * executor of as many threads) instead of one event loop and one executor each, as the floor's
 * clients then share as many event loops: for a thousand clients in one JVM.
 *
 * <p>With {@code sameThreadExecutors} both brokers run that work on the calling thread, i.e. the
 * event loop: a diagnostic that shows what the executor hand-offs cost, not a setting to use.
 *
 * <p>Thread-safety: see {@link FanoutStack}.
 */
final class PbjFanout implements FanoutStack {
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /** The root object the server offers every connection. */
  static final class TickerRoot implements Referenceable {
    private final Ticker ticker;

    TickerRoot(Ticker ticker) {
      this.ticker = ticker;
    }

    /** The one ticker; arrives as a {@link TickerCache}. */
    @Remote
    public Ticker ticker() {
      return ticker;
    }
  }

  private final Ticker ticker;
  private final List<PbClient> clients = new ArrayList<>();
  private final List<TickerCache> caches = new ArrayList<>();
  private final List<Receiver> receivers = new ArrayList<>();
  private final boolean sameThreadExecutors;
  private final boolean eachObserver;
  private final int clientThreads;
  private ExecutorService clientExecutor;
  private PbServer server;

  PbjFanout(boolean sameThreadExecutors) {
    this(sameThreadExecutors, false, 0);
  }

  /**
   * @param eachObserver push with {@code callRemote} on each observer, not {@code callRemoteAll}
   * @param clientThreads event-loop (and executor) threads all clients share; 0 for their own
   */
  PbjFanout(boolean sameThreadExecutors, boolean eachObserver, int clientThreads) {
    this.sameThreadExecutors = sameThreadExecutors;
    this.eachObserver = eachObserver;
    this.clientThreads = clientThreads;
    this.ticker = new Ticker(Backpressure.DEFAULT, eachObserver);
  }

  static PbRegistry registry() {
    return PbRegistry.builder().registerCache(Ticker.class, TickerCache.class).build();
  }

  @Override
  public String name() {
    String name = eachObserver ? "PBJ, callRemote each" : "PBJ";
    return sameThreadExecutors ? name + ", same-thread executors (diagnostic)" : name;
  }

  @Override
  public void start(int observers, Window window) throws Exception {
    PbServer.Builder serverBuilder =
        PbServer.builder()
            .port(0)
            .registry(registry())
            .root(new TickerRoot(ticker))
            .maxConnectionsPerAddress(0); // every observer connects from loopback
    if (sameThreadExecutors) {
      serverBuilder.executor(Runnable::run);
    }
    server = serverBuilder.build().start();
    String host = InetAddress.getLoopbackAddress().getHostAddress();
    if (clientThreads > 0) {
      SharedClientGroup.start(clientThreads);
      if (!sameThreadExecutors) {
        clientExecutor =
            Executors.newFixedThreadPool(clientThreads, new DefaultThreadFactory("bench-client", true));
      }
    }
    for (int i = 0; i < observers; i++) {
      PbClient.Builder clientBuilder =
          PbClient.builder().address(host, server.port()).registry(registry());
      if (sameThreadExecutors) {
        clientBuilder.executor(Runnable::run);
      } else if (clientExecutor != null) {
        clientBuilder.executor(clientExecutor);
      }
      PbClient client = clientBuilder.build();
      clients.add(client);
      RemoteReference root = client.rootObject().get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      TickerCache cache =
          root.callRemote(TickerCache.class, "ticker").get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Receiver receiver = new Receiver(window, cache.nextSeq());
      cache.attach(receiver);
      caches.add(cache);
      receivers.add(receiver);
    }
    if (ticker.observerCount() != observers) {
      throw new IllegalStateException(
          "the ticker has " + ticker.observerCount() + " observers, expected " + observers);
    }
  }

  @Override
  public void push(long seq, byte[] payload) {
    ticker.tick(seq, payload);
  }

  @Override
  public List<Receiver> receivers() {
    return receivers;
  }

  /** Fresh states received beyond the first, over all observers. */
  long coalescings() {
    return caches.stream().mapToLong(c -> c.states() - 1).sum();
  }

  /** Bytes the first observer has received so far, framing included. */
  long bytesReceivedByFirstObserver() throws Exception {
    return clients.get(0).connection().get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .stats().bytesReceived();
  }

  @Override
  public void close() throws InterruptedException {
    clients.forEach(PbClient::shutdown);
    for (PbClient client : clients) {
      client.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    if (server != null) {
      server.shutdown();
      server.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    if (clientThreads > 0) {
      SharedClientGroup.stop();
    }
    if (clientExecutor != null) {
      clientExecutor.shutdown();
      clientExecutor.awaitTermination(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
  }
}
