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
 * <p>{@link Mode#DIRECT} is PBJ's opt-in direct mode: the echo method is marked {@code
 * @Remote(direct = true)}, so it runs on the server's event loop, and the client completes call
 * futures on its event loop ({@code directCompletions(true)}). {@link Mode#SAME_THREAD} makes both
 * brokers run all such work on the calling thread, i.e. the event loop: a diagnostic that shows
 * what the executor hand-offs cost, not a setting to use.
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

  /** The root object of {@link Mode#DIRECT}: its method runs on the event loop. */
  static final class DirectEchoRoot implements Referenceable {
    /** Returns {@code payload}; never blocks, so it may run on the event loop. */
    @Remote(direct = true)
    public byte[] echo(byte[] payload) {
      return payload;
    }
  }

  /** How the brokers are configured. */
  enum Mode {
    /** All defaults. */
    DEFAULT,
    /** The opt-in direct mode on both sides. */
    DIRECT,
    /** Same-thread executors on both sides: a diagnostic. */
    SAME_THREAD
  }

  private final Mode mode;
  private PbServer server;
  private PbClient client;
  private RemoteReference root;

  PbjStack(Mode mode) {
    this.mode = mode;
  }

  @Override
  public void start() throws Exception {
    Object echoRoot = mode == Mode.DIRECT ? new DirectEchoRoot() : new EchoRoot();
    PbServer.Builder serverBuilder = PbServer.builder().port(0).root(echoRoot);
    PbClient.Builder clientBuilder = PbClient.builder();
    if (mode == Mode.SAME_THREAD) {
      serverBuilder.executor(Runnable::run);
      clientBuilder.executor(Runnable::run);
    } else if (mode == Mode.DIRECT) {
      clientBuilder.directCompletions(true);
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
