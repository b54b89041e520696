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

  private PbServer server;
  private PbClient client;
  private RemoteReference root;

  @Override
  public void start() throws Exception {
    server = PbServer.builder().port(0).root(new EchoRoot()).build().start();
    client =
        PbClient.builder()
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
