package io.pbj;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.pbj.internal.Admission;
import io.pbj.internal.BrokerConfig;
import io.pbj.internal.Connection;
import io.pbj.internal.NettyCompatibility;
import io.pbj.internal.Options;
import io.pbj.internal.Pipeline;
import io.pbj.internal.ServerLimits;
import io.pbj.internal.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PBJ server: accepts connections on a TCP port or an in-process name and offers each one a
 * root object.
 *
 * <pre>{@code
 * PbServer server = PbServer.builder()
 *     .port(7000)
 *     .root(new EchoRoot())          // or rootFactory(connection -> new Session(connection))
 *     .build()
 *     .start();
 * ...
 * server.shutdown();
 * server.awaitTermination(Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>Its defaults are meant for a server on the open internet: connection caps (total and per
 * address), handshake and login deadlines, keep-alive, a time limit and a shared memory budget
 * for messages still arriving; each can be changed or turned off on the builder (see
 * docs/CONNECTIONS.md, "Facing the internet").
 *
 * <p>Thread-safety: thread-safe; {@link #start()} may be called once.
 */
public final class PbServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PbServer.class);

  /** The default of {@link Builder#slowReaderTimeout}. */
  public static final Duration DEFAULT_SLOW_READER_TIMEOUT = Duration.ofSeconds(30);

  private final Options options;
  private final Function<PbConnection, Object> rootFactory;
  private final List<Consumer<PbConnection>> connectListeners;
  private final List<BiConsumer<PbConnection, PbException>> disconnectListeners;
  private final int workerThreads;
  private final Duration slowReaderTimeout;
  private final ExecutorService ownedExecutor;
  private final BrokerConfig config;
  private final Admission admission;
  /** Keep-alive interval and timeout; null when it is off. */
  private final Duration keepAliveInterval;
  private final Duration keepAliveTimeout;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private EventLoopGroup bossGroup;
  private EventLoopGroup workerGroup;
  private volatile Channel serverChannel;
  private volatile boolean started;
  private volatile boolean shutdown;

  private PbServer(Builder b) {
    this.options = b.options;
    this.rootFactory = b.rootFactory;
    this.connectListeners = List.copyOf(b.connectListeners);
    this.disconnectListeners = List.copyOf(b.disconnectListeners);
    this.workerThreads = b.workerThreads;
    this.slowReaderTimeout = b.slowReaderTimeout;
    this.admission = new Admission(b.limits());
    if (options.isSet("keepAlive")) {
      keepAliveInterval = options.keepAliveInterval; // null: turned off
      keepAliveTimeout = options.keepAliveTimeout;
    } else {
      keepAliveInterval = ServerLimits.DEFAULT_KEEP_ALIVE_INTERVAL;
      keepAliveTimeout = ServerLimits.DEFAULT_KEEP_ALIVE_TIMEOUT;
    }
    if (options.executor == null) {
      ownedExecutor = Executors.newCachedThreadPool(new DefaultThreadFactory("pbj-server", true));
      config = options.config(ownedExecutor);
    } else {
      ownedExecutor = null;
      config = options.config(options.executor);
    }
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

  /**
   * Binds and starts accepting connections. Fails with {@link PbException.Code#CONNECT_FAILED}
   * if the address cannot be bound.
   */
  public synchronized PbServer start() {
    if (started) {
      throw new IllegalStateException("PbServer.start() was already called");
    }
    started = true;
    Transport transport = options.transport();
    bossGroup = transport.newGroup(1, "pbj-accept");
    workerGroup =
        transport.newGroup(
            transport == Transport.IN_PROCESS ? 1 : workerThreads, "pbj-server-io");
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(transport.serverChannel())
            .childHandler(
                new Pipeline(
                    config,
                    rootFactory,
                    this::track,
                    new Pipeline.Channels(
                        options.tls(), null, keepAliveInterval, keepAliveTimeout, slowReaderTimeout),
                    admission));
    if (transport == Transport.TCP) {
      // A restarted server can bind its port again while old connections are in TIME_WAIT.
      bootstrap.option(io.netty.channel.ChannelOption.SO_REUSEADDR, true);
      bootstrap.childOption(io.netty.channel.ChannelOption.TCP_NODELAY, true);
    }
    try {
      serverChannel = bootstrap.bind(options.address()).syncUninterruptibly().channel();
    } catch (Exception e) {
      bossGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      workerGroup.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      if (ownedExecutor != null) {
        ownedExecutor.shutdown();
      }
      throw new PbException(
          PbException.Code.CONNECT_FAILED, "cannot bind " + options.address() + ": " + e, e);
    }
    return this;
  }

  private void track(Connection connection) {
    connections.add(connection);
    connection.onClose(
        cause -> {
          connections.remove(connection);
          for (BiConsumer<PbConnection, PbException> l : disconnectListeners) {
            l.accept(connection, cause);
          }
        });
    if (!connectListeners.isEmpty()) { // else the first call need not wait for a task
      connection.onReadyBeforeCalls(
          c -> {
            for (Consumer<PbConnection> l : connectListeners) {
              try {
                l.accept(c);
              } catch (RuntimeException e) {
                // the next listener, and the connection's calls behind them, still run
                log.warn("{}: an onConnect listener failed", c, e);
              }
            }
          });
    }
  }

  /** The TCP port the server listens on (useful after {@code port(0)}), or -1 in-process. */
  public int port() {
    SocketAddress address = localAddress();
    return address instanceof InetSocketAddress inet ? inet.getPort() : -1;
  }

  /** The bound address. */
  public SocketAddress localAddress() {
    Channel ch = serverChannel;
    if (ch == null) {
      throw new IllegalStateException("PbServer is not started");
    }
    return ch.localAddress();
  }

  /**
   * The SHA-256 of this server's TLS certificate (the leaf of the chain it presents), as 64
   * lower-case hex digits; null when TLS is off. Stable for as long as the certificate is: usable
   * as the server's identity, and what a client pins with {@link
   * PbClient.Builder#tlsPinnedSha256(String)}.
   */
  public String tlsFingerprint() {
    return options.tls() == null ? null : options.tls().fingerprint();
  }

  /** What this server's connections share to enforce its limits (tests). */
  Admission admission() {
    return admission;
  }

  /** The connections open now (their registry handshake may still be under way). */
  public Set<PbConnection> connections() {
    return Set.copyOf(connections);
  }

  /**
   * Stops accepting, says goodbye to every connection and releases the server's threads. Pending
   * calls fail with {@link PbException.Code#CONNECTION_LOST}. Idempotent; does not wait.
   */
  public synchronized void shutdown() {
    if (shutdown) {
      return;
    }
    shutdown = true;
    if (serverChannel != null) {
      serverChannel.close();
    }
    if (workerGroup == null) {
      shutdownExecutor();
      return;
    }
    List<Connection> open = List.copyOf(connections);
    java.util.concurrent.atomic.AtomicInteger remaining =
        new java.util.concurrent.atomic.AtomicInteger(open.size() + 1);
    Runnable oneClosed =
        () -> {
          if (remaining.decrementAndGet() == 0) {
            bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
            workerGroup
                .shutdownGracefully(0, 2, TimeUnit.SECONDS)
                .addListener(f -> shutdownExecutor());
          }
        };
    for (Connection c : open) {
      c.goodbye("server shutting down").whenComplete((v, e) -> oneClosed.run());
    }
    oneClosed.run();
  }

  private void shutdownExecutor() {
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
  }

  /** Waits until {@link #shutdown()} has finished; returns false on timeout. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    if (workerGroup != null) {
      if (!bossGroup.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)
          || !workerGroup.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return ownedExecutor == null
        || ownedExecutor.awaitTermination(remaining(deadline), TimeUnit.NANOSECONDS);
  }

  private static long remaining(long deadline) {
    return Math.max(0, deadline - System.nanoTime());
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
    Channel ch = serverChannel;
    return "PbServer[" + (ch == null ? "not started" : ch.localAddress()) + "]";
  }

  /**
   * Builds a {@link PbServer}. Thread-safety: not thread-safe; use from one thread.
   */
  public static final class Builder extends BrokerBuilder<Builder> {
    private Function<PbConnection, Object> rootFactory;
    private final List<Consumer<PbConnection>> connectListeners =
        new java.util.ArrayList<>();
    private final List<BiConsumer<PbConnection, PbException>> disconnectListeners =
        new java.util.ArrayList<>();
    private int workerThreads = Math.max(1, Runtime.getRuntime().availableProcessors());
    private Duration slowReaderTimeout = DEFAULT_SLOW_READER_TIMEOUT;
    private Duration messageTimeout = ServerLimits.DEFAULT_MESSAGE_TIMEOUT;
    private long inboundBudget = -1; // the default depends on the JVM: resolved in build()
    private int maxIncomingMessageSize;
    private int maxMessageSizeBeforeLogin = -1; // the default depends on the registry: see limits()
    private Duration handshakeTimeout = ServerLimits.DEFAULT_HANDSHAKE_TIMEOUT;
    private Duration loginTimeout = ServerLimits.DEFAULT_LOGIN_TIMEOUT;
    private int maxConnections = -1; // the default depends on the process: resolved in build()
    private int maxConnectionsPerAddress = ServerLimits.DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;

    private Builder() {
      super("PbServer.Builder");
    }

    /** Listens on all interfaces at {@code port}; 0 picks a free port (see {@link #port()}). */
    public Builder port(int port) {
      options.address("port", Options.tcp("", port, true), Transport.TCP);
      return this;
    }

    /** Listens on {@code host} at {@code port}. */
    public Builder address(String host, int port) {
      options.address("address", Options.tcp(host, port, true), Transport.TCP);
      return this;
    }

    /** Listens in-process under {@code name}; clients reach it with {@code inProcess(name)}. */
    public Builder inProcess(String name) {
      options.address("inProcess", Options.local(name), Transport.IN_PROCESS);
      return this;
    }

    /** The root object every connection reaches first: the same object for all of them. */
    public Builder root(Object root) {
      Objects.requireNonNull(root, "root");
      return rootFactory(connection -> root, "root");
    }

    /**
     * Creates a root object per connection (on the executor, before the connection's first call
     * runs).
     */
    public Builder rootFactory(Function<PbConnection, Object> factory) {
      return rootFactory(Objects.requireNonNull(factory, "factory"), "rootFactory");
    }

    private Builder rootFactory(Function<PbConnection, Object> factory, String option) {
      if (rootFactory != null) {
        throw new IllegalStateException(
            "PbServer.Builder." + option + " conflicts with an earlier root or rootFactory");
      }
      rootFactory = factory;
      return this;
    }

    /**
     * Serves TLS with the first private key entry (and its certificate chain) of a PKCS#12 file.
     * The file is read now; a missing file, wrong password or missing key fails here.
     *
     * <pre>{@code
     * PbServer.builder().port(7000).tls(Path.of("server.p12"), password).root(root).build()
     * }</pre>
     *
     * <p>Conflicts with the other {@code tls} option.
     */
    public Builder tls(java.nio.file.Path pkcs12, char[] password) {
      options.tls("tls", io.pbj.internal.Tls.serverFromPkcs12("PbServer.Builder.tls", pkcs12, password));
      return this;
    }

    /**
     * Serves TLS with {@code key} and its certificate chain, the server's own certificate first.
     * Conflicts with the other {@code tls} option.
     */
    public Builder tls(java.security.PrivateKey key, java.security.cert.X509Certificate... chain) {
      options.tls("tls", io.pbj.internal.Tls.server("PbServer.Builder.tls", key, chain));
      return this;
    }

    /**
     * How long a client may leave what the server writes unread. While a connection's outgoing
     * buffer is full (the client does not read its answers and updates), the server stops reading
     * that connection's calls, so they cannot pile up answers in memory; if the client still has
     * not read after {@code timeout}, the connection is closed with {@link
     * PbException.Code#LIMIT_EXCEEDED} ("the peer reads too slowly"). Default 30 seconds.
     *
     * @param timeout positive
     */
    public Builder slowReaderTimeout(Duration timeout) {
      options.once("slowReaderTimeout");
      slowReaderTimeout = Options.positive("PbServer.Builder.slowReaderTimeout", timeout);
      return this;
    }

    /** Network threads for connections (TCP). Default: one per core. */
    public Builder workerThreads(int threads) {
      options.once("workerThreads");
      workerThreads = Options.positive("workerThreads", threads);
      return this;
    }

    /**
     * How long a message may take to arrive, from its first bytes to its last; a connection that
     * takes longer is closed with {@link PbException.Code#LIMIT_EXCEEDED}. It bounds how long a
     * peer can hold memory with a message it never finishes, and trickles a byte at a time.
     * Raise it if clients send large messages over slow links (at the default, a 64 MiB message
     * needs about 1.1 MB/s). Default 60 seconds; {@link Duration#ZERO} turns it off.
     */
    public Builder messageTimeout(Duration timeout) {
      options.once("messageTimeout");
      messageTimeout = Options.zeroOrPositive("PbServer.Builder.messageTimeout", timeout);
      return this;
    }

    /**
     * The most bytes of partly received messages (frames still arriving, chunks of a message so
     * far) that all connections together may hold. When a connection needs more and the budget
     * is used up, the connection holding the most is closed with {@link
     * PbException.Code#LIMIT_EXCEEDED}, and the others keep working. A message larger than the
     * budget can never arrive. At least {@code maxFrameSize}. Default: a quarter of the JVM's
     * direct memory limit, between 16 and 256 MiB; 0 turns it off (then memory is bounded only
     * by {@code maxMessageSize} per connection).
     */
    public Builder inboundBudget(long bytes) {
      options.once("inboundBudget");
      if (bytes < 0) {
        throw new IllegalArgumentException(
            "PbServer.Builder.inboundBudget must be zero (off) or positive, got " + bytes);
      }
      inboundBudget = bytes;
      return this;
    }

    /**
     * The largest message a client may send this server, when it must be smaller than {@link
     * #maxMessageSize}, which also bounds what the server sends. A server that answers large
     * states but takes only small requests (the world sample: whole worlds out, inventories in)
     * keeps what one decode of a client's message may cost (up to {@code maxDecodeExpansion}
     * times its size) far below its heap this way. A larger message closes the connection with
     * {@link PbException.Code#LIMIT_EXCEEDED}. Default: {@code maxMessageSize}.
     *
     * @param bytes positive, at most {@code maxMessageSize}
     */
    public Builder maxIncomingMessageSize(int bytes) {
      options.once("maxIncomingMessageSize");
      maxIncomingMessageSize = Options.positive("maxIncomingMessageSize", bytes);
      return this;
    }

    /**
     * The largest message a connection may send before it is let in: before its registry
     * handshake is done and, where the root is a {@link io.pbj.cred.Portal}'s login root, before it has
     * logged in. It keeps connections nobody has let in from holding much memory. The client's
     * registry HELLO must fit: it names every class of the client's registry (about 50 bytes a
     * class), so a client with this server's registry sends one as large as the server's own.
     * A value below the server's own HELLO therefore fails {@link #build()}, naming both sizes;
     * login messages are a few hundred bytes. A client whose HELLO does not fit (one registering
     * many more classes) is closed with {@link PbException.Code#LIMIT_EXCEEDED} (what {@link
     * #onDisconnect} sees) and told why in a GOODBYE; its own connection ends with {@link
     * PbException.Code#CONNECTION_LOST} and that reason. Default 64 KiB more than the server's
     * own HELLO (so any registry connects with the defaults); 0 turns it off (then {@code
     * maxMessageSize} applies from the start).
     */
    public Builder maxMessageSizeBeforeLogin(int bytes) {
      options.once("maxMessageSizeBeforeLogin");
      maxMessageSizeBeforeLogin = zeroOrPositive("maxMessageSizeBeforeLogin", bytes);
      return this;
    }

    /**
     * How long a new connection has to send its preamble and registry HELLO; one that has not is
     * told why in a GOODBYE and closed, with {@link PbException.Code#LIMIT_EXCEEDED}. It frees
     * the descriptors of peers that connect and send nothing, or a byte now and then. Default 10
     * seconds; {@link Duration#ZERO} turns it off.
     */
    public Builder handshakeTimeout(Duration timeout) {
      options.once("handshakeTimeout");
      handshakeTimeout = Options.zeroOrPositive("PbServer.Builder.handshakeTimeout", timeout);
      return this;
    }

    /**
     * Where the root is a {@link io.pbj.cred.Portal}'s login root: how long a connection may stay without a
     * login, from accept and again from each logout; one that has not logged in by then is told
     * why in a GOODBYE and closed, with {@link PbException.Code#LIMIT_EXCEEDED}. A connection
     * that is not logged in can do nothing but log in, so this bounds its life whether it is idle
     * or busy. Log in as part of connecting ({@link PbClient.Builder#onSession}), not after the
     * user has typed a password. Has no effect on other roots. Default 30 seconds; {@link
     * Duration#ZERO} turns it off.
     */
    public Builder loginTimeout(Duration timeout) {
      options.once("loginTimeout");
      loginTimeout = Options.zeroOrPositive("PbServer.Builder.loginTimeout", timeout);
      return this;
    }

    /**
     * The most connections open at once. A connection over it is told "the server is full" in a
     * GOODBYE right after the preamble and closed at once (the client fails with {@link
     * PbException.Code#CONNECT_FAILED} and the reason, and retries under its {@link
     * ReconnectPolicy}). Default 10,000, or four fifths of the process's file descriptor limit
     * less 128 where that is lower (a server out of descriptors cannot even refuse; the rest is
     * for refusals in progress and the server's own files); 0 turns it off.
     */
    public Builder maxConnections(int connections) {
      options.once("maxConnections");
      maxConnections = zeroOrPositive("maxConnections", connections);
      return this;
    }

    /**
     * The most connections open at once from one IP address (for IPv6, one /64 prefix), refused
     * like those over {@link #maxConnections}. Players behind one NAT share an address; behind a
     * proxy on the same host every client has the proxy's address, so turn it off there. Not
     * applied in-process. Default 32; 0 turns it off.
     */
    public Builder maxConnectionsPerAddress(int connections) {
      options.once("maxConnectionsPerAddress");
      maxConnectionsPerAddress = zeroOrPositive("maxConnectionsPerAddress", connections);
      return this;
    }

    private static int zeroOrPositive(String option, int value) {
      if (value < 0) {
        throw new IllegalArgumentException(
            "PbServer.Builder." + option + " must be zero (off) or positive, got " + value);
      }
      return value;
    }

    private int defaultBeforeLogin() {
      int byDefault = ServerLimits.DEFAULT_MAX_MESSAGE_BEFORE_LOGIN + options.helloSize();
      return maxIncomingMessageSize > 0 ? Math.min(byDefault, maxIncomingMessageSize) : byDefault;
    }

    /** The limits with their defaults filled in. */
    private ServerLimits limits() {
      return new ServerLimits(
          messageTimeout,
          inboundBudget >= 0 ? inboundBudget : ServerLimits.defaultInboundBudget(),
          maxMessageSizeBeforeLogin >= 0
              ? maxMessageSizeBeforeLogin
              : defaultBeforeLogin(),
          handshakeTimeout,
          loginTimeout,
          maxConnections >= 0 ? maxConnections : ServerLimits.defaultMaxConnections(),
          maxConnectionsPerAddress,
          maxIncomingMessageSize);
    }

    /**
     * Runs on the executor when a connection has completed its handshake, before any call of
     * that connection runs (calls of other connections may run at the same time), and before
     * {@link #onDisconnect} for it: a connection that closes before its turn still runs it, then
     * {@code onDisconnect}. The connection's calls wait until it returns, so it must not wait for
     * one of them (a login, a registration): that call would run only after it. A listener
     * that throws is logged; the next listener and the connection's calls still run.
     */
    public Builder onConnect(Consumer<PbConnection> listener) {
      connectListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /** Runs on the executor when a connection closes, with the cause. */
    public Builder onDisconnect(BiConsumer<PbConnection, PbException> listener) {
      disconnectListeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    public PbServer build() {
      options.address();
      if (rootFactory == null) {
        throw new IllegalStateException("PbServer.Builder needs a root or rootFactory");
      }
      options.validateLimits();
      int hello = options.helloSize();
      if (maxMessageSizeBeforeLogin > 0 && maxMessageSizeBeforeLogin < hello) {
        throw new IllegalArgumentException(
            "PbServer.Builder.maxMessageSizeBeforeLogin " + maxMessageSizeBeforeLogin
                + " is smaller than " + options.helloText(hello) + ", and a client with the same"
                + " registry sends one as large; use at least " + hello + ", or 0 (off)");
      }
      if (maxIncomingMessageSize > options.maxMessage) {
        throw new IllegalArgumentException(
            "PbServer.Builder.maxIncomingMessageSize " + maxIncomingMessageSize
                + " is larger than maxMessageSize " + options.maxMessage
                + "; it can only lower the limit for incoming messages");
      }
      if (maxIncomingMessageSize > 0 && maxMessageSizeBeforeLogin > maxIncomingMessageSize) {
        throw new IllegalArgumentException(
            "PbServer.Builder.maxMessageSizeBeforeLogin " + maxMessageSizeBeforeLogin
                + " is larger than maxIncomingMessageSize " + maxIncomingMessageSize);
      }
      if (inboundBudget > 0 && inboundBudget < options.maxFrame) {
        throw new IllegalArgumentException(
            "PbServer.Builder.inboundBudget " + inboundBudget + " is smaller than maxFrameSize "
                + options.maxFrame + ": a frame could never arrive");
      }
      return new PbServer(this);
    }
  }
}
