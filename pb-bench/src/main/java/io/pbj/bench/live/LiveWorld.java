package io.pbj.bench.live;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.Publishing;
import io.pbj.publish.PublishingService;
import io.pbj.publish.RemotePublished;
import io.pbj.publish.ServerKey;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server and its attached clients, all in this JVM on loopback TCP: a {@link
 * PublishingService} of {@link LiveObject}s behind one {@link PbServer}, and N clients, each its
 * own {@link PbClient} (with its own event loop and executor) attached to the whole service with
 * an in-memory {@link SnapshotStore} (the real store with its write-behind queue, no disk). Each
 * client reports every version it applies to the current {@link Deliveries}.
 *
 * <p>Thread-safety: the servers and clients are thread-safe; the changing methods ({@link
 * #patch}, {@link #publishNew}, {@link #unpublishOne}, {@link #settle}) are called from one
 * thread at a time (the changing thread while a mode runs, the benchmark thread between modes).
 */
final class LiveWorld implements AutoCloseable {
  static final String ANNOUNCER_THREAD = "live-announcer";
  static final String SERVICE = "live";
  private static final long TIMEOUT_SECONDS = 120;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /** One attached client. */
  private record Client(PbClient pb, SnapshotStore store, Attachment attachment) {}

  /** What {@link #check} found. */
  record Check(long stateMismatches, long storeMismatches) {}

  private final ServerKey key = ServerKey.generate();
  private final ExecutorService announcer =
      Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, ANNOUNCER_THREAD);
        t.setDaemon(true);
        return t;
      });
  private final PublishingService service;
  private final PbServer server;
  private final List<Client> clients = new ArrayList<>();
  private final SplittableRandom random = new SplittableRandom(42);
  private final int stateBytes;
  /** Objects a change may patch: published before the current mode began. */
  private final List<LiveObject> settled = new ArrayList<>();
  /** Objects published while the current mode runs: observed, not patched until it ends. */
  private final List<LiveObject> fresh = new ArrayList<>();
  private final Map<String, LiveObject> byIdentity = new HashMap<>();
  private long nextVersion = 1;
  private int nextId;
  private volatile Deliveries deliveries;

  /** Publishes {@code objects} objects and attaches {@code clientCount} clients. */
  LiveWorld(int objects, int clientCount, int stateBytes) throws Exception {
    this.stateBytes = stateBytes;
    service = PublishingService.builder()
        .serverKey(key).service(SERVICE).announcer(announcer).build();
    List<LiveObject> initial = new ArrayList<>(objects);
    for (int i = 0; i < objects; i++) {
      initial.add(newObject());
    }
    service.publishAll(initial);
    settled.addAll(initial);
    server = PbServer.builder().port(0).registry(registry()).root(service.endpoint())
        .maxConnectionsPerAddress(0)    // every client connects from loopback
        .build().start();
    try {
      String host = InetAddress.getLoopbackAddress().getHostAddress();
      for (int i = 0; i < clientCount; i++) {
        clients.add(attach(host));
      }
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  static PbRegistry registry() {
    return Publishing.register(PbRegistry.builder())
        .registerCache(LiveObject.class, LivePublished.class)
        .build();
  }

  private Client attach(String host) throws Exception {
    PbClient pb = PbClient.builder().address(host, server.port()).registry(registry()).build();
    SnapshotStore store = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
    try {
      RemoteReference root = pb.rootObject().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Attachment a = PublishedClient.builder().store(store).expectedServerId(key.serverId())
          .build().attach(root, SERVICE).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      a.onPublished(this::track);
      a.objects().values().forEach(this::track);
      return new Client(pb, store, a);
    } catch (Exception | Error e) {
      pb.shutdown();
      store.close();
      throw e;
    }
  }

  /** Reports each version {@code p} applies from now on, once, to the current deliveries. */
  private void track(RemotePublished p) {
    AtomicLong last = new AtomicLong(p.version());
    p.onUpdate(r -> {
      long v = r.version();
      Deliveries d = deliveries;
      // Several changes drained at once (after an activation) call this once each, all seeing
      // the newest version: report it once.
      if (d != null && last.getAndAccumulate(v, Math::max) < v) {
        d.applied(v);
      }
    });
  }

  /** Where clients report applied versions from now on. */
  void track(Deliveries d) {
    deliveries = d;
  }

  int clientCount() {
    return clients.size();
  }

  int size() {
    return byIdentity.size();
  }

  /** Objects published during the last mode become patchable. */
  void settle() {
    settled.addAll(fresh);
    fresh.clear();
  }

  /**
   * Overwrites {@code patchBytes} random bytes at a random offset of a random settled object,
   * pushed as a delta or as the whole state; registers the change with {@code d} just before.
   */
  void patch(SplittableRandom changes, int patchBytes, boolean asDelta, Deliveries d) {
    LiveObject o = settled.get(changes.nextInt(settled.size()));
    int offset = changes.nextInt(stateBytes - patchBytes + 1);
    byte[] bytes = new byte[patchBytes];
    changes.nextBytes(bytes);
    long v = nextVersion++;
    d.sent(v, System.nanoTime());
    o.patch(offset, bytes, v, asDelta);
  }

  /** Publishes a new object (announced to every client). */
  void publishNew() {
    LiveObject o = newObject();
    fresh.add(o);
    service.publish(o);
  }

  /** Unpublishes a random settled object (announced to every client). */
  void unpublishOne(SplittableRandom changes) {
    if (settled.size() <= 1) {
      return;
    }
    int i = changes.nextInt(settled.size());
    LiveObject o = settled.get(i);
    settled.set(i, settled.get(settled.size() - 1));
    settled.remove(settled.size() - 1);
    byIdentity.remove(o.identity());
    service.unpublish(o.identity());
  }

  private LiveObject newObject() {
    byte[] state = new byte[stateBytes];
    random.nextBytes(state);
    LiveObject o = new LiveObject(
        String.format(Locale.ROOT, "live-%06d", nextId++), nextVersion++, state);
    byIdentity.put(o.identity(), o);
    return o;
  }

  /** The server's connection counters, summed over the clients' connections. */
  PbConnection.Stats serverStats() {
    long bytesSent = 0;
    long bytesReceived = 0;
    long messagesSent = 0;
    long messagesReceived = 0;
    long callsSent = 0;
    for (PbConnection c : server.connections()) {
      PbConnection.Stats s = c.stats();
      bytesSent += s.bytesSent();
      bytesReceived += s.bytesReceived();
      messagesSent += s.messagesSent();
      messagesReceived += s.messagesReceived();
      callsSent += s.callsSent();
    }
    return new PbConnection.Stats(
        bytesSent, bytesReceived, messagesSent, messagesReceived, callsSent);
  }

  /**
   * Waits until every client holds exactly the server's objects, each at the server's version;
   * false if that did not happen within {@code timeout}.
   */
  boolean awaitQuiet(Deliveries d, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (d.incomplete() == 0 && quiet()) {
        return true;
      }
      Thread.sleep(d.incomplete() == 0 ? 5 : 50);
      if (d.incomplete() != 0 && quiet()) {
        return true;    // some changes were superseded by whole states: nothing more will come
      }
    }
    return false;
  }

  private boolean quiet() {
    Map<String, Long> versions = new HashMap<>();
    byIdentity.forEach((id, o) -> versions.put(id, o.version()));
    for (Client c : clients) {
      Map<String, RemotePublished> held = c.attachment().objects();
      if (held.size() != versions.size()) {
        return false;
      }
      for (Map.Entry<String, RemotePublished> e : held.entrySet()) {
        Long v = versions.get(e.getKey());
        if (v == null || v != e.getValue().version()) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Compares every client's objects and store entries with the server's states (after flushing
   * the stores); counts the (client, object) pairs that differ.
   */
  Check check() {
    long states = 0;
    long stored = 0;
    for (Client c : clients) {
      c.store().flush();
      Map<String, RemotePublished> held = c.attachment().objects();
      states += Math.abs(held.size() - byIdentity.size());
      for (LiveObject o : byIdentity.values()) {
        byte[] server = o.state();
        RemotePublished p = held.get(o.identity());
        if (!(p instanceof LivePublished lp) || !Arrays.equals(lp.state(), server)) {
          states++;
          stored++;
          continue;
        }
        Optional<Snapshot> s = c.store().get(p.storeKey());
        if (s.isEmpty() || s.get().version() != o.version()
            || !Arrays.equals(s.get().state(), server)) {
          stored++;
        }
      }
    }
    return new Check(states, stored);
  }

  @Override
  public void close() throws InterruptedException {
    for (Client c : clients) {
      c.pb().shutdown();
    }
    for (Client c : clients) {
      c.pb().awaitTermination(SHUTDOWN_TIMEOUT);
      c.store().close();
    }
    server.shutdown();
    server.awaitTermination(SHUTDOWN_TIMEOUT);
    announcer.shutdown();
    announcer.awaitTermination(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }
}
