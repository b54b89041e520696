package io.pbj.bench.rpc;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * PBJ with its defaults: a server whose root object has an {@code echo} method, and a client
 * calling it through the root's {@link RemoteReference}. Remote methods and future completions
 * run on the brokers' own executors, never on an event loop.
 *
 * <p>With {@code sameThreadExecutors} both brokers run that work on the calling thread, i.e. the
 * event loop: a diagnostic that shows what the executor hand-offs cost, not a setting to use.
 */
final class PbjStack implements Stack {
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(5);

  /** The root object the server offers. */
  static final class EchoRoot implements Referenceable {
    /** Returns {@code payload}. */
    @Remote
    public byte[] echo(byte[] payload) {
      return payload;
    }
  }

  private final boolean sameThreadExecutors;
  private PbServer server;
  private PbClient client;
  private RemoteReference root;

  PbjStack(boolean sameThreadExecutors) {
    this.sameThreadExecutors = sameThreadExecutors;
  }

  @Override
  public void start() throws Exception {
    PbServer.Builder serverBuilder = PbServer.builder().port(0).root(new EchoRoot());
    PbClient.Builder clientBuilder = PbClient.builder();
    if (sameThreadExecutors) {
      serverBuilder.executor(Runnable::run);
      clientBuilder.executor(Runnable::run);
    }
    server = serverBuilder.build().start();
    client =
        clientBuilder
            .address(InetAddress.getLoopbackAddress().getHostAddress(), server.port())
            .build();
    root = client.rootObject().get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public byte[] call(byte[] payload) throws Exception {
    return root.callRemote(byte[].class, "echo", payload)
        .get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<byte[]> callAsync(byte[] payload) {
    return root.callRemote(byte[].class, "echo", payload);
  }

  @Override
  public void close() throws InterruptedException {
    if (root != null) {
      root.close();
    }
    if (client != null) {
      client.shutdown();
      client.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    if (server != null) {
      server.shutdown();
      server.awaitTermination(SHUTDOWN_TIMEOUT);
    }
  }
}
