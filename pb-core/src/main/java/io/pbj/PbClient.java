package io.pbj;

import com.google.common.util.concurrent.MoreExecutors;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pbj.internal.BrokerConfig;
import io.pbj.internal.Connection;
import io.pbj.internal.NettyCompatibility;
import io.pbj.internal.Options;
import io.pbj.internal.Pipeline;
import io.pbj.internal.Tls;
import io.pbj.internal.Transport;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PBJ client: a connection to a server, the server's root object, and optionally a session
 * made from it (e.g. a login) that is made again after every reconnection.
 *
 * <pre>{@code
 * try (PbClient client = PbClient.builder().address("localhost", 7000).build()) {
 *   RemoteReference root = client.rootObject().join();
 *   String echoed = root.callRemote(String.class, "echo", "hello").join();
 * }
 * }</pre>
 *
 * <p>With a {@link ReconnectPolicy}, a lost connection (or a failed connection attempt) is tried
 * again with backoff until {@link #shutdown()}; {@link #session()} always gives the current
 * session, or the next one while the client is reconnecting:
 *
 * <pre>{@code
 * PbClient client = PbClient.builder()
 *     .address("localhost", 7000)
 *     .tlsPinnedSha256(serverFingerprint)
 *     .keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30))
 *     .reconnect(ReconnectPolicy.defaults())
 *     .onSession(root -> login(root))
 *     .listener(myListener)
 *     .build()
 *     .start();
 * RemoteReference avatar = client.session().join();
 * }</pre>
 *
 * <p>Calls pending when a connection is lost fail with {@link PbException.Code#CONNECTION_LOST};
 * references from a lost session fail at once with {@link PbException.Code#DEAD_REFERENCE}: get
 * the new session from {@link #session()} or {@link ClientListener#connected}.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PbClient implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PbClient.class);

  private final Options options;
  private final Duration connectTimeout;
  private final List<Consumer<PbException>> disconnectListeners;
  private final List<ClientListener> listeners;
  private final ReconnectPolicy reconnect;
  private final Function<RemoteReference, CompletionStage<RemoteReference>> sessionInitializer;
  private final Random random;
  private final ExecutorService ownedExecutor;
  private final BrokerConfig config;
  private final Executor executor;
  /** Runs every state change, one at a time: the fields below marked "control" are its own. */
  private final Executor control;
  /** Runs listener callbacks one at a time, in order. */
  private final Executor events;
  private EventLoopGroup group;
  /** False when the group is the benchmarks' shared one, which outlives this client. */
  private volatile boolean ownsGroup = true;
  private Bootstrap bootstrap;
  private boolean started;
  private volatile boolean shutdown;
  private volatile CompletableFuture<Connection> connection = new CompletableFuture<>();
  private volatile CompletableFuture<RemoteReference> session = new CompletableFuture<>();
  private volatile ScheduledFuture<?> retry;
  /** control: the attempt under way or established, or null between attempts. */
  private Attempt attempt;
  /** control: failed attempts since the last session. */
  private int failures;
  /** control: no more attempts (shut down, or a failure that retrying would not fix). */
  private boolean finished;

  private PbClient(Builder b) {
    this.options = b.options;
    this.connectTimeout = b.connectTimeout;
    this.disconnectListeners = List.copyOf(b.disconnectListeners);
    this.listeners = List.copyOf(b.listeners);
    this.reconnect = b.reconnect;
    this.sessionInitializer = b.sessionInitializer;
    this.random = b.random != null ? b.random : new Random();
    if (options.executor == null) {
      ownedExecutor = Executors.newCachedThreadPool(new DefaultThreadFactory("pbj-client", true));
      config = options.config(ownedExecutor);
    } else {
      ownedExecutor = null;
      config = options.config(options.executor);
    }
    Executor configured = config.executor();
    // After shutdown an owned executor refuses work; late events still complete futures.
    this.executor =
        r -> {
          try {
            configured.execute(r);
          } catch (RejectedExecutionException e) {
            ForkJoinPool.commonPool().execute(r);
          }
        };
    this.control = MoreExecutors.newSequentialExecutor(executor);
    this.events = MoreExecutors.newSequentialExecutor(executor);
  }

  /**
   * A new builder.
   *
   * @throws IllegalStateException when the Netty on the class path is not 4.2, naming the
   *     artifact found and the fix (import {@code io.netty:netty-bom})
   */
  public static Builder builder() {
    NettyCompatibility.check();
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
    EventLoopGroup shared =
        transport == Transport.TCP ? io.pbj.internal.SharedClientGroup.current() : null;
    ownsGroup = shared == null;
    group = ownsGroup ? transport.newGroup(1, "pbj-client-io") : shared;
    bootstrap = new Bootstrap().group(group).channel(transport.channel());
    if (transport == Transport.TCP) {
      bootstrap
          .option(ChannelOption.TCP_NODELAY, true)
          .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) connectTimeout.toMillis());
    }
    control.execute(this::connect);
    return this;
  }

  /** One connection attempt, from dialling to its session. */
  private final class Attempt {
    Connection connection;
    boolean established;
    boolean over;
  }

  /** control: dials once. */
  private void connect() {
    if (finished || shutdown) {
      return;
    }
    Attempt a = new Attempt();
    attempt = a;
    Pipeline pipeline =
        new Pipeline(
            config,
            null,
            c -> created(a, c),
            new Pipeline.Channels(
                options.tls(),
                options.address(),
                options.keepAliveInterval,
                options.keepAliveTimeout,
                null));
    ChannelFuture dial;
    try {
      dial = bootstrap.clone().handler(pipeline).connect(options.address());
    } catch (RejectedExecutionException e) {
      return; // the event loop is shutting down
    }
    dial.addListener(
        f -> {
          if (!f.isSuccess()) {
            PbException e =
                new PbException(
                    PbException.Code.CONNECT_FAILED,
                    "cannot connect to " + hostAndPort(options.address()) + ": "
                        + connectFailure(f.cause()),
                    f.cause());
            control.execute(() -> attemptFailed(a, e));
          }
        });
  }

  /** On the event loop, as the channel is initialised. */
  private void created(Attempt a, Connection c) {
    a.connection = c;
    for (Consumer<PbException> l : disconnectListeners) {
      c.onClose(l);
    }
    c.onClose(cause -> control.execute(() -> closed(a, cause)));
    c.ready()
        .thenComposeAsync(
            ready -> {
              RemoteReference root = ready.rootReference();
              if (sessionInitializer == null) {
                return CompletableFuture.completedFuture(root);
              }
              CompletionStage<RemoteReference> made = sessionInitializer.apply(root);
              return Objects.requireNonNull(made, "the session initializer returned null");
            },
            executor)
        .whenComplete(
            (s, failure) ->
                control.execute(
                    () -> {
                      if (failure == null) {
                        established(a, c, s);
                      } else {
                        attemptFailed(a, sessionFailure(c, failure));
                      }
                    }));
  }

  /** control */
  private void established(Attempt a, Connection c, RemoteReference s) {
    if (a != attempt || a.over) {
      return;
    }
    if (shutdown || s == null) {
      a.over = true;
      c.close();
      if (s == null) {
        stop(new PbException(PbException.Code.PROTOCOL_ERROR, "the session initializer gave null"));
      }
      return;
    }
    a.established = true;
    failures = 0;
    CompletableFuture<Connection> cf = connection;
    CompletableFuture<RemoteReference> sf = session;
    executor.execute(() -> cf.complete(c));
    executor.execute(() -> sf.complete(s));
    tell(l -> l.connected(s));
  }

  /** control: an attempt ended before its session was made. */
  private void attemptFailed(Attempt a, PbException cause) {
    if (a != attempt || a.over) {
      return;
    }
    a.over = true;
    attempt = null;
    if (a.connection != null) {
      a.connection.close();
    }
    if (shutdown) {
      return;
    }
    if (reconnect != null && isRetryable(cause)) {
      scheduleRetry(cause);
    } else {
      stop(cause);
    }
  }

  /** control: the connection closed, before or after its session was made. */
  private void closed(Attempt a, PbException cause) {
    if (a != attempt || a.over) {
      return;
    }
    if (!a.established) {
      CompletableFuture<Connection> ready = a.connection.ready();
      if (ready.isDone() && !ready.isCompletedExceptionally()) {
        // The session initializer may be waiting on something other than the connection.
        attemptFailed(a, cause);
      }
      // Otherwise the handshake fails too, and reports its more precise cause.
      return;
    }
    a.over = true;
    attempt = null;
    tell(l -> l.disconnected(cause));
    if (shutdown) {
      return;
    }
    if (reconnect != null) {
      connection = new CompletableFuture<>();
      session = new CompletableFuture<>();
      scheduleRetry(cause);
    } else {
      stop(cause);
    }
  }

  /** control */
  private void scheduleRetry(PbException cause) {
    failures++;
    Duration delay = reconnect.delay(failures, random);
    int n = failures;
    log.debug("{}: attempt {} in {} after {}", this, n, delay, cause.getMessage());
    tell(l -> l.reconnecting(n, delay, cause));
    try {
      retry =
          group.schedule(() -> control.execute(this::connect), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // shutting down
    }
    if (shutdown) {
      cancelRetry();
    }
  }

  /** control: no more attempts; the futures fail with {@code cause}. */
  private void stop(PbException cause) {
    if (finished) {
      return;
    }
    finished = true;
    CompletableFuture<Connection> cf = connection;
    CompletableFuture<RemoteReference> sf = session;
    if (cf.isDone()) {
      connection = CompletableFuture.failedFuture(cause);
    } else {
      executor.execute(() -> cf.completeExceptionally(cause));
    }
    if (sf.isDone()) {
      session = CompletableFuture.failedFuture(cause);
    } else {
      executor.execute(() -> sf.completeExceptionally(cause));
    }
    tell(l -> l.stopped(cause));
  }

  /** {@code host:port} as the user wrote it, not Java's {@code host/address:port}. */
  static String hostAndPort(java.net.SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      String host = inet.getHostString();
      return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
    }
    return String.valueOf(address);
  }

  /**
   * Why a connect failed, in the words a person uses ("connection refused"), not Netty's
   * ({@code AnnotatedConnectException: finishConnect(..) failed with error(-111)}); the exception
   * itself stays the cause.
   */
  static String connectFailure(Throwable cause) {
    if (cause instanceof java.net.UnknownHostException) {
      return "unknown host";
    }
    if (cause instanceof io.netty.channel.ConnectTimeoutException) {
      return "timed out";
    }
    String message = cause.getMessage() == null ? "" : cause.getMessage().toLowerCase(Locale.ROOT);
    for (String known : KNOWN_CONNECT_FAILURES) {
      if (message.contains(known)) {
        return known;
      }
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  private static final List<String> KNOWN_CONNECT_FAILURES =
      List.of(
          "connection refused",
          "connection timed out",
          "no route to host",
          "network is unreachable",
          "host is unreachable",
          "host is down",
          "connection reset",
          "permission denied");

  private static boolean isRetryable(PbException cause) {
    return cause.code() == PbException.Code.CONNECT_FAILED
        || cause.code() == PbException.Code.CONNECTION_LOST;
  }

  private PbException sessionFailure(Connection c, Throwable failure) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    if (!(t instanceof PbException pb)) {
      return new PbException(
          PbException.Code.PROTOCOL_ERROR, "the session initializer failed: " + t, t);
    }
    if (pb.code() == PbException.Code.DEAD_REFERENCE && !c.isOpen()) {
      // the connection went away between the handshake and the initializer's first call
      return new PbException(
          PbException.Code.CONNECTION_LOST,
          "connection lost while making the session: " + pb.detail(),
          pb);
    }
    if (pb.code() == PbException.Code.CONNECTION_LOST
        && options.tls() == null
        && c.stats().bytesReceived() == 0) {
      return new PbException(
          PbException.Code.CONNECTION_LOST,
          "the server at " + options.address() + " closed the connection before sending anything"
              + " (does it require TLS?)",
          pb);
    }
    return pb;
  }

  private void tell(Consumer<ClientListener> event) {
    for (ClientListener l : listeners) {
      events.execute(
          () -> {
            try {
              event.accept(l);
            } catch (RuntimeException e) {
              log.warn("{}: listener {} failed", this, l, e);
            }
          });
    }
  }

  private void cancelRetry() {
    ScheduledFuture<?> r = retry;
    if (r != null) {
      r.cancel(false);
    }
  }

  /**
   * The server's root object on the current connection, once connected and the registries agree;
   * while reconnecting, the next connection's. Starts connecting if needed. Completes on the
   * executor. Fails when the client stops (see {@link ClientListener#stopped}) or, without a
   * reconnect policy, when the connection is lost.
   */
  public CompletableFuture<RemoteReference> rootObject() {
    start();
    return connection.thenApply(Connection::rootReference);
  }

  /**
   * The current session: what the session initializer (see {@link Builder#onSession}) made of the
   * root, or the root itself without one; while reconnecting, the next session. Starts connecting
   * if needed. Completes on the executor; fails as {@link #rootObject()} does.
   */
  public CompletableFuture<RemoteReference> session() {
    start();
    return session.thenApply(s -> s);
  }

  /** The current connection, once its session is made. Starts connecting if needed. */
  public CompletableFuture<PbConnection> connection() {
    start();
    return connection.thenApply(c -> c);
  }

  /**
   * Says goodbye, closes the connection, stops reconnecting (a pending backoff is cancelled) and
   * releases the client's threads. Pending calls and futures fail. Idempotent; does not wait.
   */
  public void shutdown() {
    synchronized (this) {
      if (shutdown) {
        return;
      }
      shutdown = true;
    }
    cancelRetry();
    if (group == null) {
      failFutures();
      shutdownExecutor();
      return;
    }
    control.execute(
        () -> {
          cancelRetry();
          Attempt a = attempt;
          attempt = null;
          failFutures();
          if (a != null && a.connection != null && a.connection.isOpen()) {
            a.over = true;
            a.connection.goodbye("client shutting down").whenComplete((v, e) -> shutdownGroup());
          } else {
            shutdownGroup();
          }
        });
  }

  private void failFutures() {
    PbException e = new PbException(PbException.Code.SHUTDOWN, "the client was shut down");
    CompletableFuture<Connection> cf = connection;
    CompletableFuture<RemoteReference> sf = session;
    executor.execute(() -> cf.completeExceptionally(e));
    executor.execute(() -> sf.completeExceptionally(e));
    if (!finished) {
      finished = true;
      tell(l -> l.stopped(e));
    }
  }

  private void shutdownGroup() {
    if (!ownsGroup) {
      shutdownExecutor();
      return;
    }
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).addListener(f -> shutdownExecutor());
  }

  private void shutdownExecutor() {
    if (ownedExecutor != null) {
      // Let queued listener events run first.
      events.execute(ownedExecutor::shutdown);
    }
  }

  /** Waits until {@link #shutdown()} has finished; returns false on timeout. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    EventLoopGroup g;
    synchronized (this) {
      g = group;
    }
    if (g != null && ownsGroup && !g.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
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

  @Override
  public String toString() {
    return "PbClient[" + options.address() + "]";
  }

  /**
   * Builds a {@link PbClient}. Thread-safety: not thread-safe; use from one thread.
   */
  public static final class Builder extends BrokerBuilder<Builder> {
    private Duration connectTimeout = Duration.ofSeconds(10);
    private final List<Consumer<PbException>> disconnectListeners = new ArrayList<>();
    private final List<ClientListener> listeners = new ArrayList<>();
    private ReconnectPolicy reconnect;
    private Function<RemoteReference, CompletionStage<RemoteReference>> sessionInitializer;
    private Random random;

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

    /** Runs on the executor when a connection closes, with the cause (once per connection). */
    public Builder onDisconnect(Consumer<PbException> listener) {
      disconnectListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Told of connections, losses and reconnection attempts; may be given several times. */
    public Builder listener(ClientListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Reconnects with {@code policy} when the connection is lost or an attempt fails to connect
     * (including the first), until {@link PbClient#shutdown()}. A failure that another attempt
     * would not fix (a refused login, a registry mismatch, a TLS certificate that does not match)
     * stops the client instead. Default: no reconnection.
     */
    public Builder reconnect(ReconnectPolicy policy) {
      options.once("reconnect");
      reconnect = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Makes the session from the server's root after each connection, before {@link
     * PbClient#session()} completes and {@link ClientListener#connected} runs, e.g. {@code root ->
     * login(root, credentials, mind)}. Runs on the executor. If its stage fails with {@link
     * PbException.Code#CONNECTION_LOST} the attempt is retried (with a reconnect policy); any other
     * failure stops the client with that failure. Default: the session is the root.
     */
    public Builder onSession(
        Function<RemoteReference, CompletionStage<RemoteReference>> initializer) {
      options.once("onSession");
      sessionInitializer = Objects.requireNonNull(initializer, "initializer");
      return this;
    }

    /**
     * Speaks TLS, trusting {@code trusted} (certificate authorities or self-signed server
     * certificates) and checking that the server's certificate names the host dialled. Conflicts
     * with the other {@code tls} options.
     */
    public Builder tlsTrust(X509Certificate... trusted) {
      options.tls("tlsTrust", Tls.clientTrusting("PbClient.Builder.tlsTrust", trusted));
      return this;
    }

    /**
     * Speaks TLS, trusting the certificates in a PKCS#12 trust store, with hostname verification.
     * Conflicts with the other {@code tls} options.
     */
    public Builder tlsTrustStore(Path pkcs12, char[] password) {
      options.tls(
          "tlsTrustStore", Tls.clientTrustStore("PbClient.Builder.tlsTrustStore", pkcs12, password));
      return this;
    }

    /**
     * Speaks TLS and accepts only a server whose certificate has this SHA-256 (64 hex digits,
     * colons allowed), as given by {@link PbServer#tlsFingerprint()}. No certificate authority and
     * no hostname check: the pin is the server's identity. Conflicts with the other {@code tls}
     * options.
     */
    public Builder tlsPinnedSha256(String hex) {
      options.tls("tlsPinnedSha256", Tls.clientPinned("PbClient.Builder.tlsPinnedSha256", hex));
      return this;
    }

    /** The randomness for reconnection jitter (tests). */
    Builder random(Random random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    public PbClient build() {
      options.address();
      options.validateLimits();
      Tls tls = options.tls();
      if (tls != null
          && tls.verifiesHostname()
          && !(options.address() instanceof InetSocketAddress)) {
        throw new IllegalStateException(
            "PbClient.Builder.tlsTrust/tlsTrustStore verify the server's host name and need a TCP"
                + " address; in-process, use tlsPinnedSha256");
      }
      return new PbClient(this);
    }
  }
}
