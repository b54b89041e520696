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
import java.net.SocketAddress;
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
 * <p>Given several addresses (e.g. the members of an origin cluster, see {@link
 * Builder#addresses}), each attempt after a lost connection or a failed attempt dials the next
 * address in the list, so a dead member is not retried first; {@link #updateAddresses} replaces
 * the list at run time (a member list learned from the server) without dropping the connection:
 *
 * <pre>{@code
 * PbClient client = PbClient.builder()
 *     .addresses(PbClient.parseAddresses("a.example.com:7000,b.example.com:7000"))
 *     .reconnect(ReconnectPolicy.defaults())
 *     .build()
 *     .start();
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

  /** The most addresses a client takes ({@link Builder#addresses}, {@link #updateAddresses}). */
  public static final int MAX_ADDRESSES = 64;

  /** The longest text {@link #parseAddress} takes, in characters. */
  public static final int MAX_ADDRESS_LENGTH = 300;

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
  /** The TCP addresses to dial, in order; empty for an in-process client. Written on control. */
  private volatile List<InetSocketAddress> addresses;
  /** The address of the attempt under way or established, or the last one dialled; or null. */
  private volatile SocketAddress current;
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
  /** control: the connection future an established session was completing, or null. */
  private CompletableFuture<Connection> promised;
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
    if (b.addresses != null) {
      this.addresses = b.addresses;
    } else if (options.address() instanceof InetSocketAddress inet) {
      this.addresses = List.of(inet);
    } else {
      this.addresses = List.of();
    }
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
    control.execute(() -> connect(null));
    return this;
  }

  /** One connection attempt, from dialling to its session. */
  private final class Attempt {
    final SocketAddress address;
    Connection connection;
    boolean established;
    boolean over;

    Attempt(SocketAddress address) {
      this.address = address;
    }
  }

  /**
   * control: the address the next attempt dials: the one after the last dialled in the list (the
   * first when that one is no longer listed, or none was dialled yet).
   */
  private SocketAddress nextAddress() {
    List<InetSocketAddress> list = addresses;
    if (list.isEmpty()) {
      return options.address();
    }
    SocketAddress last = current;
    if (last == null) {
      return list.get(0);
    }
    int i = indexOf(list, last);
    return list.get((i + 1) % list.size());
  }

  /** The position of {@code address} in {@code list} by host and port, or -1. */
  private static int indexOf(List<InetSocketAddress> list, SocketAddress address) {
    String key = key(address);
    for (int i = 0; i < list.size(); i++) {
      if (key(list.get(i)).equals(key)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The address's identity in a list: host as written (case-insensitive) and port, so an
   * unresolved address and a resolved one for the same {@code host:port} are the same entry.
   */
  private static String key(SocketAddress address) {
    return hostAndPort(address).toLowerCase(Locale.ROOT);
  }

  /**
   * control: dials once, {@code planned} (named to listeners when the retry was scheduled) if it is
   * still listed, else the next address.
   */
  private void connect(SocketAddress planned) {
    if (finished || shutdown) {
      return;
    }
    SocketAddress target =
        planned != null && (addresses.isEmpty() || indexOf(addresses, planned) >= 0)
            ? planned
            : nextAddress();
    current = target;
    Attempt a = new Attempt(target);
    attempt = a;
    Pipeline pipeline =
        new Pipeline(
            config,
            null,
            c -> created(a, c),
            new Pipeline.Channels(
                options.tls(), target, options.keepAliveInterval, options.keepAliveTimeout, null));
    ChannelFuture dial;
    try {
      dial = bootstrap.clone().handler(pipeline).connect(target);
    } catch (RejectedExecutionException e) {
      return; // the event loop is shutting down
    }
    dial.addListener(
        f -> {
          if (!f.isSuccess()) {
            PbException e =
                new PbException(
                    PbException.Code.CONNECT_FAILED,
                    "cannot connect to " + hostAndPort(target) + ": " + connectFailure(f.cause()),
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
                        attemptFailed(a, sessionFailure(a, c, failure));
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
    if (!c.isOpen()) {
      // It closed while the handshake's success was still on its way to the executor: closed()
      // found the handshake unfinished and left the failure to it, but it had succeeded. The
      // listener runs at once (on the executor) with the cause the connection closed with.
      c.onClose(cause -> control.execute(() -> attemptFailed(a, cause)));
      return;
    }
    a.established = true;
    failures = 0;
    CompletableFuture<Connection> cf = connection;
    CompletableFuture<RemoteReference> sf = session;
    promised = cf;
    executor.execute(() -> cf.complete(c));
    executor.execute(() -> sf.complete(s));
    SocketAddress address = a.address;
    tell(l -> l.connected(s, address));
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
    } else if (reconnect == null
        && cause.code() == PbException.Code.CONNECT_FAILED
        && failures + 1 < addresses.size()) {
      // Without a policy, each address is still tried once, at once, before giving up.
      failures++;
      int n = failures;
      SocketAddress next = nextAddress();
      tell(l -> l.reconnecting(n, Duration.ZERO, cause, next));
      connect(next);
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
      // Otherwise the handshake fails too, and reports its more precise cause; or it succeeded
      // and its success has not reached the executor yet, and established() finds it closed.
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
    Duration delay = reconnect.delay(failures, Math.max(1, addresses.size()), random);
    int n = failures;
    SocketAddress next = nextAddress();
    log.debug(
        "{}: attempt {} to {} in {} after {}",
        this,
        n,
        hostAndPort(next),
        delay,
        cause.getMessage());
    tell(l -> l.reconnecting(n, delay, cause, next));
    try {
      retry =
          group.schedule(
              () -> control.execute(() -> connect(next)), delay.toNanos(), TimeUnit.NANOSECONDS);
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
    // Futures an established session completes on the executor may not be done yet: they are
    // replaced too, or a late success would outlive the stop.
    boolean succeeded = cf == promised;
    if (cf.isDone() || succeeded) {
      connection = CompletableFuture.failedFuture(cause);
    } else {
      executor.execute(() -> cf.completeExceptionally(cause));
    }
    if (sf.isDone() || succeeded) {
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

  private PbException sessionFailure(Attempt a, Connection c, Throwable failure) {
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
          "the server at "
              + hostAndPort(a.address)
              + " closed the connection before sending anything"
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
   * The TCP addresses this client dials, in order: those given to {@link Builder#addresses} (or
   * the one of {@link Builder#address}), or the latest {@link #updateAddresses}; empty for an
   * in-process client.
   */
  public List<InetSocketAddress> addresses() {
    return addresses;
  }

  /**
   * The address of the current connection (or of the attempt under way, or the last one dialled),
   * as given to the client; null before the first attempt.
   */
  public SocketAddress currentAddress() {
    return current;
  }

  /**
   * Replaces the addresses to dial, e.g. with a member list learned from the server. The current
   * connection is not dropped, even if its address is not in the new list; the next attempt dials
   * the address after the current one in the new list (the first, if the current one is not in
   * it). Duplicates (the same host and port) are dropped, keeping the first. Takes effect in order
   * with the client's other state changes, so it may land just after this method returns.
   *
   * @throws IllegalArgumentException when {@code addresses} is empty, has a null, an address with
   *     port 0, or more than {@link #MAX_ADDRESSES} entries
   * @throws IllegalStateException when this client connects in-process
   */
  public void updateAddresses(List<InetSocketAddress> addresses) {
    List<InetSocketAddress> checked = checkAddresses("PbClient.updateAddresses", addresses);
    if (options.transport() != Transport.TCP) {
      throw new IllegalStateException(
          "PbClient.updateAddresses: this client connects in-process to "
              + options.address()
              + " and has no TCP addresses to replace");
    }
    control.execute(
        () -> {
          this.addresses = checked;
          log.debug("{}: addresses now {}", this, checked);
        });
  }

  /**
   * {@code addresses} without duplicates, immutable; fails naming {@code what} and the entry.
   */
  static List<InetSocketAddress> checkAddresses(String what, List<InetSocketAddress> addresses) {
    if (addresses == null) {
      throw new IllegalArgumentException(what + " needs a list of addresses, got null");
    }
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException(what + " needs at least one address, got none");
    }
    if (addresses.size() > MAX_ADDRESSES) {
      throw new IllegalArgumentException(
          what + " got " + addresses.size() + " addresses; at most " + MAX_ADDRESSES);
    }
    java.util.LinkedHashMap<String, InetSocketAddress> unique = new java.util.LinkedHashMap<>();
    for (int i = 0; i < addresses.size(); i++) {
      InetSocketAddress a = addresses.get(i);
      if (a == null) {
        throw new IllegalArgumentException(what + ": address " + (i + 1) + " is null");
      }
      if (a.getPort() == 0) {
        throw new IllegalArgumentException(
            what + ": address " + (i + 1) + " (" + hostAndPort(a) + ") has port 0, which cannot"
                + " be dialled");
      }
      unique.putIfAbsent(key(a), a);
    }
    return List.copyOf(unique.values());
  }

  /**
   * Parses {@code host:port} or {@code [ipv6]:port} (surrounding blanks ignored) into an
   * unresolved address: no name lookup happens here, the client resolves it when it dials.
   *
   * @throws IllegalArgumentException naming the text and what is wrong with it: no port, a port
   *     out of 1..65535, an empty or malformed host, an IPv6 address without brackets, text longer
   *     than {@link #MAX_ADDRESS_LENGTH}
   */
  public static InetSocketAddress parseAddress(String hostPort) {
    if (hostPort == null) {
      throw new IllegalArgumentException("address expected as host:port, got null");
    }
    if (hostPort.length() > MAX_ADDRESS_LENGTH) {
      throw badAddress(hostPort, "longer than " + MAX_ADDRESS_LENGTH + " characters");
    }
    String text = hostPort.strip();
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw badAddress(hostPort, "'[' without ']'");
      }
      host = text.substring(1, close);
      String rest = text.substring(close + 1);
      if (!rest.startsWith(":")) {
        throw badAddress(hostPort, "no :port after ']'");
      }
      port = rest.substring(1);
      if (host.isEmpty()) {
        throw badAddress(hostPort, "empty host");
      }
      if (!isIpv6Literal(host)) {
        throw badAddress(hostPort, "'" + host + "' between brackets is not an IPv6 address");
      }
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw badAddress(hostPort, "no :port");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        throw badAddress(hostPort, "an IPv6 address needs brackets, as in [::1]:7000");
      }
      if (host.isEmpty()) {
        throw badAddress(hostPort, "empty host");
      }
      if (!isHostName(host)) {
        throw badAddress(
            hostPort, "the host may hold only letters, digits, '.', '-' and '_' (at most 253)");
      }
    }
    if (port.isEmpty()
        || port.length() > 5
        || !port.chars().allMatch(ch -> ch >= '0' && ch <= '9')) {
      throw badAddress(hostPort, "the port is not a number from 1 to 65535");
    }
    int p = Integer.parseInt(port);
    if (p < 1 || p > 65535) {
      throw badAddress(hostPort, "port " + p + " is out of range 1..65535");
    }
    return InetSocketAddress.createUnresolved(host, p);
  }

  /**
   * Parses a comma-separated list of {@link #parseAddress} addresses, e.g. {@code
   * "a.example.com:7000, [2001:db8::1]:7000"}.
   *
   * @throws IllegalArgumentException when the text has no address, an empty entry, more than
   *     {@link #MAX_ADDRESSES} entries, or an entry {@link #parseAddress} rejects (naming which)
   */
  public static List<InetSocketAddress> parseAddresses(String commaSeparated) {
    if (commaSeparated == null || commaSeparated.isBlank()) {
      throw new IllegalArgumentException(
          "addresses expected as host:port,host:port,..., got "
              + (commaSeparated == null ? "null" : "nothing"));
    }
    String[] parts = commaSeparated.split(",", -1);
    if (parts.length > MAX_ADDRESSES) {
      throw new IllegalArgumentException(
          "got " + parts.length + " addresses; at most " + MAX_ADDRESSES);
    }
    List<InetSocketAddress> out = new ArrayList<>(parts.length);
    for (int i = 0; i < parts.length; i++) {
      if (parts[i].isBlank()) {
        throw new IllegalArgumentException(
            "address " + (i + 1) + " of \"" + printable(commaSeparated) + "\" is empty");
      }
      try {
        out.add(parseAddress(parts[i]));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("address " + (i + 1) + ": " + e.getMessage(), e);
      }
    }
    return List.copyOf(out);
  }

  private static IllegalArgumentException badAddress(String text, String why) {
    return new IllegalArgumentException(
        "bad address \"" + printable(text) + "\": " + why + " (expected host:port or [ipv6]:port)");
  }

  /** {@code text} cut to 100 characters, with control and non-ASCII characters escaped. */
  private static String printable(String text) {
    StringBuilder b = new StringBuilder();
    int end = Math.min(text.length(), 100);
    for (int i = 0; i < end; i++) {
      char ch = text.charAt(i);
      if (ch >= 0x20 && ch < 0x7f) {
        b.append(ch);
      } else {
        b.append(String.format("\\u%04x", (int) ch));
      }
    }
    if (text.length() > end) {
      b.append("...(").append(text.length()).append(" chars)");
    }
    return b.toString();
  }

  private static boolean isHostName(String host) {
    if (host.length() > 253) {
      return false;
    }
    for (int i = 0; i < host.length(); i++) {
      char ch = host.charAt(i);
      boolean ok =
          (ch >= 'a' && ch <= 'z')
              || (ch >= 'A' && ch <= 'Z')
              || (ch >= '0' && ch <= '9')
              || ch == '.'
              || ch == '-'
              || ch == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Hex digits, colons and dots (an embedded IPv4), at least two colons; an optional %zone. */
  private static boolean isIpv6Literal(String host) {
    int percent = host.indexOf('%');
    String address = percent < 0 ? host : host.substring(0, percent);
    if (percent >= 0) {
      String zone = host.substring(percent + 1);
      if (zone.isEmpty() || !isHostName(zone)) {
        return false;
      }
    }
    if (address.length() > 45 || address.chars().filter(ch -> ch == ':').count() < 2) {
      return false;
    }
    return address
        .chars()
        .allMatch(
            ch ->
                (ch >= '0' && ch <= '9')
                    || (ch >= 'a' && ch <= 'f')
                    || (ch >= 'A' && ch <= 'F')
                    || ch == ':'
                    || ch == '.');
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
    SocketAddress a = current;
    return "PbClient[" + hostAndPort(a != null ? a : options.address()) + "]";
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
    private List<InetSocketAddress> addresses;

    private Builder() {
      super("PbClient.Builder");
    }

    /** Connects to {@code host:port} over TCP. */
    public Builder address(String host, int port) {
      options.address("address", Options.tcp(host, port, false), Transport.TCP);
      return this;
    }

    /**
     * Connects over TCP to one of {@code addresses}: the first, and on each later attempt (with a
     * {@link #reconnect} policy) the next in the list, wrapping around, e.g. the members of an
     * origin cluster serving the same world. Duplicates are dropped. See {@link #parseAddresses}
     * for reading them from text, and {@link PbClient#updateAddresses} to replace them later.
     * Without a reconnect policy, a failed first connect still tries each address once, in
     * order, before the client gives up; a lost connection is not retried. Conflicts with {@link
     * #address} and {@link #inProcess}.
     *
     * @throws IllegalArgumentException when {@code addresses} is empty, has a null, an address
     *     with port 0, or more than {@link PbClient#MAX_ADDRESSES} entries
     */
    public Builder addresses(List<InetSocketAddress> addresses) {
      List<InetSocketAddress> checked = checkAddresses("PbClient.Builder.addresses", addresses);
      options.address("addresses", checked.get(0), Transport.TCP);
      this.addresses = checked;
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
