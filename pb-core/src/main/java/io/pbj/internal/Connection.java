package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import io.pbj.PbCodec;
import io.pbj.PbConnection;
import io.pbj.PbException.Code;
import io.pbj.PbException;
import io.pbj.PbListener;
import io.pbj.RemoteReference;
import java.net.SocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One end of one connection: owns the channel, the connection's lifecycle, its public view and
 * counters, the login perspective, and the four tables, which do the work (as in Cap'n Proto's
 * RPC): {@link OutboundCalls} (questions), {@link InboundCalls} (answers), {@link ExportTable}
 * with its {@link CacheObservers} (exports), {@link ImportTable} with its {@link ImportedCaches}
 * (imports). Values cross through the {@link ReferenceWriter} and {@link ReferenceReader}; releases
 * of imports leave in batches through the {@link ReleaseBatcher}. Incoming messages are dispatched
 * here, each to its table.
 *
 * <p>Threads: messages arrive on the channel's event loop and are handed off at once; incoming
 * calls and cache pushes run one at a time in arrival order on a sequential view of the executor;
 * answers complete futures on another. Nothing here runs user code on the event loop.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Connection implements PbConnection, LoginHooks {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  /** Violations of the reference limit tolerated before the connection is closed. */
  static final int LIMIT_STRIKES = 2;

  /** Protocol errors are logged at most once every ten seconds (with a count), for all connections. */
  private static final LogLimiter PROTOCOL_ERRORS = new LogLimiter(10);

  /** Errors while serving a connection likewise: a peer may provoke them on purpose. */
  private static final LogLimiter INTERNAL_ERRORS = new LogLimiter(10);

  /** Why reading stops while too many incoming calls wait to run (see CallSequence). */
  private static final String CALL_BACKLOG = "calls wait to run";

  /** How long a goodbye waits for the peer to take it before the channel is closed anyway. */
  private static final long GOODBYE_GRACE_SECONDS = 1;

  /** Where the connection is in its life. */
  private sealed interface State {
    /** Open, nothing has gone wrong. */
    record Open() implements State {}

    /** Open still, but going: the first reason recorded wins and becomes the close cause. */
    record Failing(PbException cause) implements State {}

    /** Closed, for this cause; everything pending has been failed. */
    record Closed(PbException cause) implements State {}
  }

  /** The one open state: transitions compare states by identity. */
  private static final State OPEN = new State.Open();

  private final Channel channel;
  private final BrokerConfig config;
  private final Executor executor;
  private final CallSequence sequential;
  /** Whether calls are held back while the channel is not writable (servers; see CallSequence). */
  private volatile boolean holdCallsWhileUnwritable;
  private final ExportTable exports;
  private final ImportTable imports;
  private final CacheObservers observers;
  private final ImportedCaches caches;
  private final UpdateFailures updateFailures;
  private final OutboundCalls outbound;
  private final InboundCalls inbound;
  private final ReferenceWriter writer;
  private final ReferenceReader reader;
  private final ReleaseBatcher releases;
  private final AtomicReference<State> state = new AtomicReference<>(OPEN);
  private final CompletableFuture<Connection> ready = new CompletableFuture<>();
  private final CompletableFuture<Void> channelClosed = new CompletableFuture<>();
  private final List<Consumer<PbException>> closeListeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<Connection>> readyListeners = new CopyOnWriteArrayList<>();
  /** Tells the ready listeners once (set on the event loop at the handshake, if any). */
  private volatile Once readyTold;
  private final DropListeners dropListeners;
  private final AtomicInteger limitStrikes = new AtomicInteger();
  private final AtomicBoolean goodbyeSent = new AtomicBoolean();
  private final Counters counters = new Counters();
  private final Admittance admittance = new Admittance();
  private final PeerRegistry peer = new PeerRegistry();

  Connection(Channel channel, BrokerConfig config) {
    this.channel = channel;
    this.config = config;
    this.executor = config.executor();
    this.sequential =
        new CallSequence(
            executor,
            () -> !holdCallsWhileUnwritable || channel.isWritable() || !channel.isActive(),
            backlog -> {
              if (backlog) {
                config.observability().backpressure(this, PbListener.Pressure.READS_PAUSED,
                    "more than " + CallSequence.QUEUED_MAX + " incoming calls wait to run");
                ReadPause.pause(channel, CALL_BACKLOG);
              } else {
                ReadPause.resume(channel, CALL_BACKLOG);
              }
            });
    this.dropListeners = new DropListeners(executor);
    this.exports = new ExportTable(config.maxReferences(), this::exportDropped);
    this.releases =
        new ReleaseBatcher(
            this, r -> channel.eventLoop().execute(r), config.maxMessage(), this::isOpen,
            this::send);
    this.imports = new ImportTable(this, releases::add);
    this.observers = new CacheObservers(this);
    this.caches = new ImportedCaches(this, imports, sequential);
    this.updateFailures = new UpdateFailures(this, config.updateFailureListener());
    this.outbound = new OutboundCalls(this, executor);
    this.inbound = new InboundCalls(this, exports, sequential, executor);
    this.writer = new ReferenceWriter(this, config, exports, observers);
    this.reader = new ReferenceReader(config, exports, imports, peer);
    channel.closeFuture().addListener(f -> channelClosed.complete(null));
  }

  /**
   * Creates the root object (id 0) on the sequential executor, so it exists before the first
   * incoming call runs and the factory (user code) never runs on the event loop.
   */
  void createRoot(Function<PbConnection, Object> factory) {
    sequential.execute(
        () -> {
          try {
            Object root =
                Objects.requireNonNull(factory.apply(this), "root factory returned null");
            exports.pinRoot(root);
            admittance.rootCreated(root);
          } catch (RuntimeException e) {
            fail(new PbException(Code.PROTOCOL_ERROR, "could not create the root object: " + e, e));
            channel.close();
          }
        });
  }

  // ---- the public view ----

  @Override
  public SocketAddress remoteAddress() {
    return channel.remoteAddress();
  }

  @Override
  public boolean isOpen() {
    return !(state.get() instanceof State.Closed);
  }

  @Override
  public void onClose(Consumer<PbException> listener) {
    closeListeners.add(listener);
    PbException cause = closeCause();
    if (cause != null && closeListeners.remove(listener)) {
      Handoff.execute(executor, () -> listener.accept(cause));
    }
  }

  @Override
  public void close() {
    goodbye("closed by this side");
  }

  @Override
  public Stats stats() {
    return counters.snapshot(outbound.callsSent(), updateFailures.reported());
  }

  @Override
  public PbCodec codec() {
    return PbCodec.of(config.registry());
  }

  @Override
  public int exportedCount() {
    return exports.size();
  }

  @Override
  public int importedCount() {
    return imports.size();
  }

  @Override
  public String tlsServerCertificateSha256() {
    return Tls.serverCertificateSha256(channel);
  }

  @Override
  public String toString() {
    return "PbConnection[" + channel.localAddress() + " <-> " + channel.remoteAddress() + "]";
  }

  // ---- for the rest of the broker ----

  /** Completes when the registry handshake is done. */
  public CompletableFuture<Connection> ready() {
    return ready;
  }

  /**
   * Runs {@code listener} once when the handshake is done, on the sequential executor ahead of
   * every incoming call and cache push of this connection, so what it sets up is there when the
   * first call runs. A connection that closes before the sequence gets to it runs it on the
   * executor then; either way the {@link #onClose} listeners run after it. Register before the
   * handshake can finish (when the connection is created); a listener registered later is not
   * told.
   */
  public void onReadyBeforeCalls(Consumer<Connection> listener) {
    readyListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** The proxy for the peer's root object. */
  public RemoteReference rootReference() {
    return imports.receive(Wire.ROOT_ID);
  }

  public Channel channel() {
    return channel;
  }

  /** The perspective (avatar) this connection logged in as, or null before login. */
  @Override
  public Object perspective() {
    return admittance.perspective();
  }

  /** Sets the perspective after a successful login; null after logout. */
  @Override
  public void setPerspective(Object perspective) {
    admittance.setPerspective(perspective);
  }

  /** Sends a ping; the future completes when the pong arrives. */
  public CompletableFuture<Void> ping() {
    return outbound.ping();
  }

  /**
   * Says goodbye with {@code reason}, then closes; the returned future completes when the channel
   * is closed (at the latest a second later, if the peer does not take the goodbye).
   */
  public CompletableFuture<Void> goodbye(String reason) {
    if (!isOpen() || !channel.isActive()) {
      channel.close();
      return channelClosed;
    }
    state.compareAndSet(
        OPEN,
        new State.Failing(new PbException(Code.CONNECTION_LOST, "connection closed: " + reason)));
    if (!goodbyeSent.compareAndSet(false, true)) {
      return channelClosed; // one goodbye, one grace: a second would cut the first's short
    }
    send(new Message.Goodbye(reason))
        .addListener(
            f -> {
              if (f.isSuccess() && channel instanceof DuplexChannel socket) {
                // A lingering close: closing a socket now, with the peer's bytes still unread,
                // would reset the connection, and a reset can destroy the goodbye before the
                // peer reads it. What the peer still sends is read and dropped (see
                // acceptsInput) until it closes, which a PBJ peer does on reading the goodbye,
                // or the grace ends.
                channel.config().setAutoRead(true);
                if (channel.pipeline().get(SslHandler.class) == null) {
                  socket.shutdownOutput(); // the end reaches even a peer that ignores goodbyes
                }
              } else {
                channel.close();
              }
            });
    channel.eventLoop().schedule(() -> channel.close(), GOODBYE_GRACE_SECONDS, TimeUnit.SECONDS);
    return channelClosed;
  }

  /**
   * Says goodbye and closes the connection once the answer to the call now running on this
   * thread has been written (at once when called outside a remote method), so the caller gets
   * that answer before the connection closes.
   */
  @Override
  public void goodbyeAfterReply(String reason) {
    if (!InboundCalls.goodbyeAfterReply(reason)) {
      goodbye(reason);
    }
  }

  /**
   * Runs {@code listener} once, on the executor, when the peer has released every reference to
   * the exported {@code object} or the connection closes, whichever comes first.
   */
  @Override
  public void whenDropped(Object object, Runnable listener) {
    if (!isOpen()) {
      Handoff.execute(executor, listener);
      return;
    }
    dropListeners.add(object, listener);
    if (!isOpen()) {
      dropListeners.dropped(object);
    }
  }

  BrokerConfig config() {
    return config;
  }

  Executor executor() {
    return executor;
  }

  ImportTable imports() {
    return imports;
  }

  OutboundCalls outbound() {
    return outbound;
  }

  ReferenceReader reader() {
    return reader;
  }

  /** What the handshake learned of the peer's registry and protocol version. */
  PeerRegistry peer() {
    return peer;
  }

  boolean isWritable() {
    return channel.isWritable();
  }

  /** Why the connection closed, or null while it is open. */
  PbException closeCause() {
    return state.get() instanceof State.Closed closed ? closed.cause() : null;
  }

  /** Why the connection is closing or closed, or null while nothing has gone wrong. */
  PbException failureCause() {
    State now = state.get();
    if (now instanceof State.Failing failing) {
      return failing.cause();
    }
    return now instanceof State.Closed closed ? closed.cause() : null;
  }

  Counters counters() {
    return counters;
  }

  void handshakeDone() {
    admittance.handshakeDone();
    config.observability().opened(this, sequential);
    if (!readyListeners.isEmpty()) {
      Once told =
          new Once(
              () -> {
                for (Consumer<Connection> listener : readyListeners) {
                  listener.accept(this);
                }
              });
      readyTold = told;
      // queued on the event loop before the first call is read, so it runs before that call
      sequential.execute(told::runOrAwait);
    }
    Handoff.complete(executor, ready, this);
  }

  /** How far the peer is let in: handshake, login; see {@link Admittance}. */
  Admittance admittance() {
    return admittance;
  }

  /** Whether incoming bytes are still read: false once the connection is failing or closed. */
  boolean acceptsInput() {
    return state.get() == OPEN;
  }

  /**
   * Closes the connection because it broke a server limit: records {@code cause} and says
   * goodbye with its detail, so that the peer can tell why.
   */
  void refuse(PbException cause) {
    fail(cause);
    goodbye(cause.detail());
  }

  // ---- sending ----

  /** Encodes {@code message} on the calling thread; see {@link ReferenceWriter#encode}. */
  ByteBuf encode(Message message) {
    ByteBuf buf = writer.encode(message, channel.alloc());
    counters.messagesSent.increment();
    if (message instanceof Message.CacheUpdate || message instanceof Message.CacheState) {
      updateFailures.pushSent(); // the peer may report one failure for it, no more
    }
    return buf;
  }

  /** A push written from bytes shared among connections (not through {@link #encode}). */
  void sharedPushSent() {
    counters.messagesSent.increment();
    updateFailures.pushSent(); // the peer may report one failure for it, no more
  }

  /** See {@link ReferenceWriter#encodeSharedUpdateBody}. */
  ByteBuf encodeSharedUpdateBody(String method, Object[] args) {
    io.netty.buffer.ByteBufAllocator alloc = SharedUpdate.bodyAllocator;
    return writer.encodeSharedUpdateBody(method, args, alloc != null ? alloc : channel.alloc());
  }

  /**
   * Writes a buffer from {@link #encode}, then lets the observers that encode created start
   * pushing: their updates are queued behind the message that carries their cache.
   */
  ChannelFuture write(ByteBuf buf) {
    ChannelFuture f = channel.writeAndFlush(buf);
    CacheObservers.activatePending();
    return f;
  }

  /** Same as {@link #write(ByteBuf)} with a promise. */
  void write(ByteBuf buf, ChannelPromise promise) {
    channel.writeAndFlush(buf, promise);
    CacheObservers.activatePending();
  }

  /**
   * Writes {@code msg} (a buffer from {@link #encode}, or a {@link Framed} frame) with no promise
   * to answer: for pushes whose sender waits for nothing. A failed write fails the channel, as
   * any broken write does. (With keep-alive on, Netty's idle handler still gives each write a
   * promise of its own, to see when writes complete.)
   */
  void writeUnanswered(Object msg) {
    channel.writeAndFlush(msg, channel.voidPromise());
    CacheObservers.activatePending();
  }

  /** Encodes and writes {@code message}; encoding failures throw. */
  ChannelFuture send(Message message) {
    return write(encode(message));
  }

  // ---- receiving (event loop) ----

  /**
   * Hands one decoded message, with the cache initialisations its values need, to its table.
   * Once the connection is failing or closed nothing more is dispatched: whatever the peer sent
   * after the failure (a refused message, a goodbye) must not run.
   */
  void received(Message message, List<Runnable> inits) {
    if (state.get() != OPEN) {
      log.debug("{}: dropped a {} that arrived after the connection started closing", this,
          message.getClass().getSimpleName());
      return;
    }
    if (message instanceof Message.Call call) {
      inbound.receive(call, inits);
    } else if (message instanceof Message.Answer answer) {
      outbound.answered(answer, inits);
    } else if (message instanceof Message.Error error) {
      outbound.failed(error);
    } else if (message instanceof Message.CacheUpdate update) {
      caches.update(update, inits);
    } else if (message instanceof Message.CacheState cacheState) {
      caches.state(cacheState, inits);
    } else if (message instanceof Message.UpdateFailed notice) {
      updateFailures.received(notice, exports.lookup(notice.cacheId()));
    } else if (message instanceof Message.UndecodablePush bad) {
      caches.undecodable(bad);
    } else if (message instanceof Message.Release release) {
      for (int i = 0; i < release.ids().length; i++) {
        exports.release(release.ids()[i], release.receipts()[i]);
      }
    } else if (message instanceof Message.Cancel cancel) {
      inbound.cancel(cancel.requestId());
    } else if (message instanceof Message.Undecodable bad) {
      undecodable(bad);
    } else if (message instanceof Message.Goodbye goodbye) {
      fail(new PbException(Code.CONNECTION_LOST, "the peer said goodbye: " + goodbye.reason()));
      channel.close();
    } else if (message instanceof Message.Ping ping) {
      send(new Message.Pong(ping.nonce()));
    } else if (message instanceof Message.Pong pong) {
      outbound.pong(pong.nonce());
    } else {
      throw new PbException(
          Code.PROTOCOL_ERROR, "unexpected " + message.getClass().getSimpleName() + " message");
    }
  }

  private void undecodable(Message.Undecodable bad) {
    if (bad.type() == Wire.CALL) {
      inbound.refuse(bad);
    } else {
      outbound.undecodable(bad);
    }
  }

  /**
   * Holds incoming calls back while the channel is not writable (the peer does not read), so
   * that their answers cannot pile up; a server's connections do.
   */
  void holdCallsWhileUnwritable() {
    holdCallsWhileUnwritable = true;
  }

  /** The observers of this connection's caches. */
  CacheObservers observers() {
    return observers;
  }

  /** The channel can take more: calls held back start, observers with a backlog drain. */
  void writable() {
    sequential.resume();
    observers.writable();
  }

  // ---- lifecycle ----

  /** Records why the connection is about to fail (the first reason wins). */
  void fail(PbException cause) {
    state.compareAndSet(OPEN, new State.Failing(cause));
    if (cause.code() == Code.PROTOCOL_ERROR || cause.code() == Code.REGISTRY_MISMATCH) {
      PROTOCOL_ERRORS.warn(log, "{}: {}", this, cause.getMessage());
    } else {
      log.debug("{}: {}", this, cause.getMessage());
    }
  }

  /** One more reference-limit violation; the second one closes the connection. */
  void limitExceeded(PbException cause) {
    if (limitStrikes.incrementAndGet() >= LIMIT_STRIKES) {
      fail(cause);
      channel.eventLoop().execute(() -> goodbye("too many references: " + cause.detail()));
    }
  }

  /**
   * An {@link Error} while serving this connection (say the answer to one of its calls ran out
   * of memory): logged once, and the connection is closed so what it holds is freed; the broker
   * and its other connections go on.
   */
  void internalError(String what, Error error) {
    INTERNAL_ERRORS.error(
        log, "{}: {} failed with {}; closing the connection", this, what, error.toString(), error);
    fail(new PbException(Code.CONNECTION_LOST, "internal error in " + what + ": " + error, error));
    goodbye("internal error"); // the details stay in this side's log
  }

  /** Closes the connection because an observer fell too far behind. */
  void slowConsumer(String what) {
    fail(new PbException(Code.LIMIT_EXCEEDED, "the peer reads too slowly: " + what));
    channel.close();
  }

  /** The channel is gone: fail everything pending, release everything, run the listeners. */
  void closed() {
    State before = state.get();
    if (before instanceof State.Closed) {
      return;
    }
    PbException why = before instanceof State.Failing failing ? failing.cause() : null;
    // a connection closed for a limit says so (LIMIT_EXCEEDED), as the documentation promises
    PbException cause =
        why != null && (why.code() == Code.CONNECTION_LOST || why.code() == Code.LIMIT_EXCEEDED)
            ? why
            : new PbException(
                Code.CONNECTION_LOST,
                "connection to " + channel.remoteAddress() + " lost"
                    + (why == null ? "" : ": " + why.detail()),
                why);
    if (!state.compareAndSet(before, new State.Closed(cause))) {
      closed(); // a reason was recorded meanwhile: start again with it
      return;
    }
    if (!ready.isDone()) {
      Handoff.fail(executor, ready, why != null ? why : cause);
    }
    outbound.failAll(cause);
    inbound.cancelAll();
    exports.clear();
    imports.clear();
    releases.clear();
    observers.stopAll();
    dropListeners.droppedAll();
    if (admittance.handshaken()) { // the listener heard of it opening
      config.observability().closed(this, cause);
    }
    Once told = readyTold;
    if (told == null) {
      tellClosed(cause);
    } else {
      // the ready listeners first, even when the sequence has not got to them (it may be busy,
      // or never run again): a close listener undoing what one set up must find it done
      Handoff.execute(
          executor,
          () -> {
            try {
              told.run();
            } catch (RuntimeException e) {
              log.warn("{}: a listener told of the connection being ready failed", this, e);
            } finally {
              told.done().whenComplete((v, t) -> tellClosed(cause));
            }
          });
    }
  }

  private void tellClosed(PbException cause) {
    for (Consumer<PbException> listener : closeListeners) {
      if (closeListeners.remove(listener)) {
        Handoff.execute(executor, () -> listener.accept(cause));
      }
    }
  }

  /** The exporter dropped {@code object}: stop its observer, run its drop listeners. */
  private void exportDropped(Object object) {
    observers.dropped(object);
    dropListeners.dropped(object);
  }
}
