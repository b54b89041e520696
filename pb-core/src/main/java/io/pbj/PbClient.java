package io.pbj;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pbj.internal.BrokerConfig;
import io.pbj.internal.Connection;
import io.pbj.internal.Options;
import io.pbj.internal.Pipeline;
import io.pbj.internal.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A PBJ client: one connection to a server, and the server's root object.
 *
 * <pre>{@code
 * try (PbClient client = PbClient.builder().address("localhost", 7000).build()) {
 *   RemoteReference root = client.rootObject().join();
 *   String echoed = root.callRemote(String.class, "echo", "hello").join();
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PbClient implements AutoCloseable {
  private final Options options;
  private final Duration connectTimeout;
  private final List<Consumer<PbException>> disconnectListeners;
  private final ExecutorService ownedExecutor;
  private final BrokerConfig config;
  private final CompletableFuture<Connection> connection = new CompletableFuture<>();
  private EventLoopGroup group;
  private boolean started;
  private volatile boolean shutdown;

  private PbClient(Builder b) {
    this.options = b.options;
    this.connectTimeout = b.connectTimeout;
    this.disconnectListeners = List.copyOf(b.disconnectListeners);
    if (options.executor == null) {
      ownedExecutor = Executors.newCachedThreadPool(new DefaultThreadFactory("pbj-client", true));
      config = options.config(ownedExecutor);
    } else {
      ownedExecutor = null;
      config = options.config(options.executor);
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Starts connecting (if not yet started) and returns this client. */
  public synchronized PbClient start() {
    if (started) {
      return this;
    }
    if (shutdown) {
      throw new IllegalStateException("PbClient was shut down");
    }
    started = true;
    Transport transport = options.transport();
    group = transport.newGroup(1, "pbj-client-io");
    Bootstrap bootstrap =
        new Bootstrap()
            .group(group)
            .channel(transport.channel())
            .handler(new Pipeline(config, null, this::created));
    if (transport == Transport.TCP) {
      bootstrap
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis());
    }
    ChannelFuture connect = bootstrap.connect(options.address());
    connect.addListener(
        f -> {
          if (!f.isSuccess()) {
            PbException e =
                new PbException(
                    PbException.Code.CONNECT_FAILED,
                    "cannot connect to " + options.address() + ": " + f.cause(),
                    f.cause());
            config.executor().execute(() -> connection.completeExceptionally(e));
          }
        });
    return this;
  }

  private void created(Connection c) {
    for (Consumer<PbException> l : disconnectListeners) {
      c.onClose(l);
    }
    c.ready()
        .whenComplete(
            (ready, failure) -> {
              if (failure != null) {
                connection.completeExceptionally(failure);
              } else {
                connection.complete(ready);
              }
            });
  }

  /**
   * The server's root object, once connected and the registries agree. Starts connecting if
   * needed. Completes on the executor.
   */
  public CompletableFuture<RemoteReference> rootObject() {
    start();
    return connection.thenApply(Connection::rootReference);
  }

  /** The connection, once established. Starts connecting if needed. */
  public CompletableFuture<PbConnection> connection() {
    start();
    return connection.thenApply(c -> c);
  }

  /** Says goodbye, closes the connection and releases the client's threads. Idempotent. */
  public synchronized void shutdown() {
    if (shutdown) {
      return;
    }
    shutdown = true;
    if (!connection.isDone()) {
      connection.completeExceptionally(
          new PbException(PbException.Code.SHUTDOWN, "the client was shut down"));
    }
    Connection c =
        connection.isDone() && !connection.isCompletedExceptionally() ? connection.join() : null;
    if (group == null) {
      shutdownExecutor();
    } else if (c != null) {
      c.goodbye("client shutting down").addListener(f -> shutdownGroup());
    } else {
      shutdownGroup();
    }
  }

  private void shutdownGroup() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> shutdownExecutor());
  }

  private void shutdownExecutor() {
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  /** Waits until {@link #shutdown()} has finished; returns false on timeout. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    EventLoopGroup g;
    synchronized (this) {
      g = group;
    }
    if (g != null && !g.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      return false;
    }
    return ownedExecutor == null
        || ownedExecutor.awaitTermination(
            Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /** Shuts down and waits up to ten seconds. */
  @Override
  public void close() {
    shutdown();
    try {
      awaitTermination(Duration.ofSeconds(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Builds a {@link PbClient}. Thread-safety: not thread-safe; use from one thread.
   */
  public static final class Builder extends BrokerBuilder<Builder> {
    private Duration connectTimeout = Duration.ofSeconds(10);
    private final List<Consumer<PbException>> disconnectListeners = new ArrayList<>();

    private Builder() {
      super("PbClient.Builder");
    }

    /** Connects to {@code host:port} over TCP. */
    public Builder address(String host, int port) {
      options.address("address", Options.tcp(host, port, false), Transport.TCP);
      return this;
    }

    /** Connects to the in-process server registered under {@code name}. */
    public Builder inProcess(String name) {
      options.address("inProcess", Options.local(name), Transport.IN_PROCESS);
      return this;
    }

    /** How long a TCP connect may take. Default 10 seconds. */
    public Builder connectTimeout(Duration timeout) {
      options.once("connectTimeout");
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectTimeout must be positive, got " + timeout);
      }
      connectTimeout = timeout;
      return this;
    }

    /** Runs on the executor when the connection closes, with the cause. */
    public Builder onDisconnect(Consumer<PbException> listener) {
      disconnectListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    public PbClient build() {
      options.address();
      options.validateLimits();
      return new PbClient(this);
    }
  }
}
