package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.google.common.util.concurrent.MoreExecutors;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import com.esotericsoftware.kryo.kryo5.Kryo;
import io.netty.buffer.ByteBuf;
import io.pbj.Cacheable;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.RemoteCache;
import io.pbj.Viewable;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One end of one connection: its export and import tables, its pending calls, and the dispatch
 * of incoming messages.
 *
 * <p>Threads: messages arrive on the channel's event loop and are handed off at once; incoming
 * calls start one at a time in arrival order on a sequential view of the executor; answers
 * complete futures on the executor. Nothing here runs user code on the event loop.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Connection implements PbConnection {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);

  /** Violations of the reference limit tolerated before the connection is closed. */
  static final int LIMIT_STRIKES = 2;

  private final Channel channel;
  private final BrokerConfig config;
  private final Executor executor;
  private final Executor sequential;
  private final Executor completions;
  private final ExportTable exports;
  private final ImportTable imports;
  private final Map<Integer, CallFuture> pending = new ConcurrentHashMap<>();
  private final Map<Integer, InboundCall> inbound = new ConcurrentHashMap<>();
  private final AtomicInteger nextRequestId = new AtomicInteger();
  private final CompletableFuture<Connection> ready = new CompletableFuture<>();
  private final List<Consumer<PbException>> closeListeners = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<long[]> releases = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean releaseFlushScheduled = new AtomicBoolean();
  private final AtomicInteger limitStrikes = new AtomicInteger();
  private final LongAdder bytesSent = new LongAdder();
  private final LongAdder bytesReceived = new LongAdder();
  private final LongAdder messagesSent = new LongAdder();
  private final LongAdder messagesReceived = new LongAdder();
  private final LongAdder callsSent = new LongAdder();
  private volatile PbException closeCause;
  private volatile PbException failure;
  private final Map<Long, CompletableFuture<Void>> pings = new ConcurrentHashMap<>();
  private final Map<Object, Runnable> dropListeners =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  private volatile Object perspective;

  private final ConcurrentLinkedQueue<Encoder> encoders = new ConcurrentLinkedQueue<>();
  private final Map<Cacheable, RealRemoteObserver> observers =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());
  private final Decoding decoding = new Decoding();

  Connection(Channel channel, BrokerConfig config, Object root) {
    this.channel = channel;
    this.config = config;
    this.executor = config.executor();
    this.sequential = MoreExecutors.newSequentialExecutor(config.executor());
    this.completions = MoreExecutors.newSequentialExecutor(config.executor());
    this.exports = new ExportTable(config.maxReferences(), this::exportDropped);
    this.imports = new ImportTable(this, this::queueRelease);
    if (root != null) {
      exports.pinRoot(root);
    }
  }

  /**
   * Creates the root object (id 0) on the sequential executor, so it exists before the first
   * incoming call runs and the factory (user code) never runs on the event loop.
   */
  void createRoot(java.util.function.Function<PbConnection, Object> factory) {
    sequential.execute(
        () -> {
          try {
            Object root = java.util.Objects.requireNonNull(factory.apply(this), "root factory returned null");
            exports.pinRoot(root);
          } catch (RuntimeException e) {
            fail(new PbException(Code.PROTOCOL_ERROR, "could not create the root object: " + e, e));
            channel.close();
          }
        });
  }

  // ---- public view ----

  @Override
  public SocketAddress remoteAddress() {
    return channel.remoteAddress();
  }

  @Override
  public boolean isOpen() {
    return closeCause == null;
  }

  @Override
  public void onClose(Consumer<PbException> listener) {
    closeListeners.add(listener);
    PbException cause = closeCause;
    if (cause != null && closeListeners.remove(listener)) {
      runOnExecutor(() -> listener.accept(cause));
    }
  }

  @Override
  public void close() {
    goodbye("closed by this side");
  }

  /**
   * Says goodbye with {@code reason}, then closes; the returned future completes when the channel
   * is closed (at the latest one second later, if the peer does not take the goodbye).
   */
  public io.netty.channel.ChannelFuture goodbye(String reason) {
    if (!isOpen() || !channel.isActive()) {
      return channel.close();
    }
    if (failure == null) {
      failure = new PbException(Code.CONNECTION_LOST, "connection closed: " + reason);
    }
    send(new Message.Goodbye(reason)).addListener(ChannelFutureListener.CLOSE);
    channel.eventLoop().schedule(() -> channel.close(), 1, java.util.concurrent.TimeUnit.SECONDS);
    return channel.closeFuture();
  }

  @Override
  public Stats stats() {
    return new Stats(
        bytesSent.sum(),
        bytesReceived.sum(),
        messagesSent.sum(),
        messagesReceived.sum(),
        callsSent.sum());
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

  // ---- internal API ----

  /** Completes when the registry handshake is done. */
  public CompletableFuture<Connection> ready() {
    return ready;
  }

  /** The proxy for the peer's root object. */
  public io.pbj.RemoteReference rootReference() {
    return imports.receive(Wire.ROOT_ID);
  }

  public Channel channel() {
    return channel;
  }

  ImportTable imports() {
    return imports;
  }

  int maxDepth() {
    return config.maxDepth();
  }

  int maxMessage() {
    return config.maxMessage();
  }

  BrokerConfig config() {
    return config;
  }

  Executor executor() {
    return executor;
  }

  Decoding decoding() {
    return decoding;
  }

  boolean isWritable() {
    return channel.isWritable();
  }

  PbException closeCause() {
    return closeCause;
  }

  void countBytesSent(long n) {
    bytesSent.add(n);
  }

  void countBytesReceived(long n) {
    bytesReceived.add(n);
  }

  void countMessageReceived() {
    messagesReceived.increment();
  }

  void handshakeDone() {
    completeOnExecutor(ready, this);
  }

  /** Records why the connection is about to fail (the first reason wins). */
  void fail(PbException cause) {
    if (failure == null) {
      failure = cause;
    }
    if (cause.code() == Code.PROTOCOL_ERROR || cause.code() == Code.REGISTRY_MISMATCH) {
      log.warn("{}: {}", this, cause.getMessage());
    } else {
      log.debug("{}: {}", this, cause.getMessage());
    }
  }

  /** The channel is gone: fail everything pending, release everything, run the listeners. */
  void closed() {
    if (closeCause != null) {
      return;
    }
    PbException why = failure;
    PbException cause =
        why != null && why.code() == Code.CONNECTION_LOST
            ? why
            : new PbException(
                Code.CONNECTION_LOST,
                "connection to " + channel.remoteAddress() + " lost"
                    + (why == null ? "" : ": " + why.detail()),
                why);
    closeCause = cause;
    if (!ready.isDone()) {
      PbException readyFailure = why != null ? why : cause;
      runOnExecutor(() -> ready.completeExceptionally(readyFailure));
    }
    for (Integer id : List.copyOf(pending.keySet())) {
      CallFuture f = pending.remove(id);
      if (f != null) {
        f.deliver(() -> f.completeExceptionally(cause), executor);
      }
    }
    for (Long nonce : List.copyOf(pings.keySet())) {
      CompletableFuture<Void> p = pings.remove(nonce);
      if (p != null) {
        failOnExecutor(p, cause);
      }
    }
    for (InboundCall call : inbound.values()) {
      call.cancel(executor);
    }
    inbound.clear();
    exports.clear();
    imports.clear();
    releases.clear();
    List<RealRemoteObserver> watching;
    synchronized (observers) {
      watching = new ArrayList<>(observers.values());
      observers.clear();
    }
    for (RealRemoteObserver o : watching) {
      o.stop();
    }
    List<Runnable> drops;
    synchronized (dropListeners) {
      drops = new ArrayList<>(dropListeners.values());
      dropListeners.clear();
    }
    for (Runnable r : drops) {
      runOnExecutor(r);
    }
    for (Consumer<PbException> listener : closeListeners) {
      if (closeListeners.remove(listener)) {
        runOnExecutor(() -> listener.accept(cause));
      }
    }
  }

  /** The perspective (avatar) this connection logged in as, or null before login. */
  public Object perspective() {
    return perspective;
  }

  /** Sets the perspective after a successful login. */
  public void setPerspective(Object perspective) {
    this.perspective = perspective;
  }

  /**
   * Runs {@code listener} once, on the executor, when the peer has released every reference to
   * the exported {@code object} or the connection closes, whichever comes first.
   */
  public void whenDropped(Object object, Runnable listener) {
    if (!isOpen()) {
      runOnExecutor(listener);
      return;
    }
    dropListeners.merge(object, listener, (a, b) -> () -> {
      a.run();
      b.run();
    });
    if (!isOpen()) {
      runDropListener(object);
    }
  }

  private void runDropListener(Object object) {
    if (object == null) {
      return;
    }
    Runnable r = dropListeners.remove(object);
    if (r != null) {
      runOnExecutor(r);
    }
  }

  // ---- outgoing calls ----

  CompletableFuture<Object> call(int target, String method, Object[] args, Class<?> resultType) {
    int id = nextRequestId.incrementAndGet();
    CallFuture future = new CallFuture(this, id, method, resultType);
    pending.put(id, future);
    if (!isOpen()) {
      pending.remove(id);
      future.completeExceptionally(deadConnection());
      return future;
    }
    callsSent.increment();
    ByteBuf buf;
    try {
      buf = encode(new Message.Call(id, target, method, args, false));
    } catch (PbException e) {
      pending.remove(id);
      future.completeExceptionally(sendFailure(e, method));
      return future;
    }
    write(buf)
        .addListener(
            f -> {
              if (!f.isSuccess() && pending.remove(id) != null) {
                PbException cause = sendFailure(f.cause(), method);
                future.deliver(() -> future.completeExceptionally(cause), executor);
              }
            });
    // a proxy passed as an argument must not be released before its call is on the wire
    java.lang.ref.Reference.reachabilityFence(args);
    return future;
  }

  CompletableFuture<Void> callOneWay(int target, String method, Object[] args) {
    CompletableFuture<Void> sent = new CompletableFuture<>();
    if (!isOpen()) {
      sent.completeExceptionally(deadConnection());
      return sent;
    }
    callsSent.increment();
    ByteBuf buf;
    try {
      buf = encode(new Message.Call(0, target, method, args, true));
    } catch (PbException e) {
      sent.completeExceptionally(sendFailure(e, method));
      return sent;
    }
    write(buf)
        .addListener(
            f -> {
              if (f.isSuccess()) {
                completeOnExecutor(sent, null);
              } else {
                failOnExecutor(sent, sendFailure(f.cause(), method));
              }
            });
    return sent;
  }

  /** Sends a ping; the future completes when the pong arrives. */
  public CompletableFuture<Void> ping() {
    long nonce = pingNonces.incrementAndGet();
    CompletableFuture<Void> f = new CompletableFuture<>();
    pings.put(nonce, f);
    if (!isOpen()) {
      pings.remove(nonce);
      f.completeExceptionally(deadConnection());
      return f;
    }
    send(new Message.Ping(nonce))
        .addListener(
            w -> {
              if (!w.isSuccess() && pings.remove(nonce) != null) {
                failOnExecutor(f, sendFailure(w.cause(), "ping"));
              }
            });
    return f;
  }

  private final java.util.concurrent.atomic.AtomicLong pingNonces =
      new java.util.concurrent.atomic.AtomicLong();

  private PbException sendFailure(Throwable cause, String method) {
    if (cause instanceof PbException pb) {
      if (pb.code() == Code.LIMIT_EXCEEDED) {
        strike(pb);
      }
      return pb;
    }
    PbException closed = closeCause;
    if (closed != null) {
      return closed;
    }
    return new PbException(
        Code.CONNECTION_LOST, "could not send call to '" + method + "': " + cause, cause);
  }

  private PbException deadConnection() {
    PbException cause = closeCause;
    return new PbException(
        Code.DEAD_REFERENCE,
        "the connection is gone" + (cause == null ? "" : " (" + cause.detail() + ")"),
        cause);
  }

  void cancel(int requestId) {
    if (pending.remove(requestId) != null && isOpen()) {
      send(new Message.Cancel(requestId));
    }
  }

  // ---- incoming messages (event loop) ----

  void received(Message message, List<Runnable> inits) {
    if (message instanceof Message.Call call) {
      receiveCall(call, inits);
    } else if (message instanceof Message.Answer answer) {
      CallFuture f = pending.remove(answer.requestId());
      if (f != null) {
        // new caches in the answer get their state first; updates for them wait until then
        f.deliver(
            () -> {
              runInits(inits);
              f.answer(answer.result());
            },
            completions);
      } else {
        runOnExecutor(() -> runInits(inits));
      }
    } else if (message instanceof Message.CacheUpdate update) {
      sequential.execute(() -> applyUpdate(update, inits));
    } else if (message instanceof Message.CacheState state) {
      sequential.execute(() -> applyState(state, inits));
    } else if (message instanceof Message.Error error) {
      CallFuture f = pending.remove(error.requestId());
      if (f != null) {
        Throwable cause = Errors.fromWire(error.error(), config.registry());
        f.deliver(() -> f.completeExceptionally(cause), completions);
      }
    } else if (message instanceof Message.Release release) {
      for (int i = 0; i < release.ids().length; i++) {
        exports.release(release.ids()[i], release.receipts()[i]);
      }
      runInits(inits);
    } else if (message instanceof Message.Cancel cancel) {
      InboundCall call = inbound.remove(cancel.requestId());
      if (call != null) {
        call.cancel(executor);
      }
    } else if (message instanceof Message.Undecodable bad) {
      if (bad.type() == Wire.CACHE_UPDATE || bad.type() == Wire.CACHE_STATE) {
        log.warn("{}: dropped a cache update that could not be decoded: {}", this,
            bad.cause().getMessage());
      } else if (bad.type() == Wire.CALL) {
        if (bad.requestId() != 0) {
          reply(bad.requestId(), bad.cause());
        }
      } else {
        CallFuture f = pending.remove(bad.requestId());
        if (f != null) {
          f.deliver(() -> f.completeExceptionally(bad.cause()), completions);
        }
      }
    } else if (message instanceof Message.Goodbye goodbye) {
      fail(new PbException(Code.CONNECTION_LOST, "the peer said goodbye: " + goodbye.reason()));
      channel.close();
    } else if (message instanceof Message.Ping ping) {
      send(new Message.Pong(ping.nonce()));
    } else if (message instanceof Message.Pong pong) {
      CompletableFuture<Void> f = pings.remove(pong.nonce());
      if (f != null) {
        completeOnExecutor(f, null);
      }
    } else {
      throw new PbException(
          Code.PROTOCOL_ERROR, "unexpected " + message.getClass().getSimpleName() + " message");
    }
  }

  private void receiveCall(Message.Call call, List<Runnable> inits) {
    InboundCall state = new InboundCall();
    if (!call.oneWay()) {
      inbound.put(call.requestId(), state);
    }
    sequential.execute(
        () -> {
          runInits(inits);
          invoke(call, state);
        });
  }

  private static void runInits(List<Runnable> inits) {
    for (Runnable r : inits) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.warn("setState of a new RemoteCache failed", e);
      }
    }
  }

  private void applyUpdate(Message.CacheUpdate update, List<Runnable> inits) {
    runInits(inits);
    RemoteCache cache = imports.cache(update.cacheId());
    if (cache == null) {
      return; // released here while the update was in flight
    }
    if (CacheHandle.of(cache).deferUntilInitialised(() -> applyUpdate(update, List.of()))) {
      return;
    }
    try {
      RemoteMethods.invoke(
          RemoteMethods.find(cache.getClass(), update.method()), cache, update.args());
    } catch (Throwable t) {
      log.warn("{}: update '{}' of {} failed", this, update.method(), cache.getClass().getName(), t);
    }
  }

  private void applyState(Message.CacheState state, List<Runnable> inits) {
    runInits(inits);
    RemoteCache cache = imports.cache(state.cacheId());
    if (cache != null
        && !CacheHandle.of(cache).deferUntilInitialised(() -> applyState(state, List.of()))) {
      try {
        CacheHandle.setState(cache, state.state());
      } catch (RuntimeException e) {
        log.warn("{}: setState of {} failed", this, cache.getClass().getName(), e);
      }
    }
  }

  /** Runs one incoming call; on the sequential executor. */
  private void invoke(Message.Call call, InboundCall state) {
    if (state.cancelled) {
      return;
    }
    Object result;
    try {
      Object target = exports.lookup(call.target());
      if (target == null) {
        throw new PbException(
            Code.NO_SUCH_OBJECT, "no object #" + call.target() + " is exported on this connection");
      }
      RemoteMethods.Target method = RemoteMethods.find(target.getClass(), call.method());
      Object[] args = call.args();
      if (target instanceof Viewable) {
        Object[] withPerspective = new Object[args.length + 1];
        withPerspective[0] = perspective;
        System.arraycopy(args, 0, withPerspective, 1, args.length);
        args = withPerspective;
      }
      CURRENT_CALL.set(state);
      try {
        result = RemoteMethods.invoke(method, target, args);
      } finally {
        CURRENT_CALL.remove();
      }
    } catch (Throwable t) {
      finish(call, state, null, t);
      return;
    }
    if (result instanceof CompletionStage<?> stage) {
      CompletableFuture<?> future = stage.toCompletableFuture();
      state.running = future;
      if (state.cancelled) {
        future.cancel(true);
      }
      future.whenComplete((r, t) -> finish(call, state, r, t));
    } else {
      finish(call, state, result, null);
    }
  }

  private void finish(Message.Call call, InboundCall state, Object result, Throwable failure) {
    try {
      answer(call, result, failure);
    } finally {
      String reason = state.goodbyeReason;
      if (reason != null) {
        goodbye(reason);
      }
    }
  }

  private void answer(Message.Call call, Object result, Throwable failure) {
    if (call.oneWay()) {
      if (failure != null) {
        log.warn("{}: one-way call to '{}' failed", this, call.method(), Errors.unwrap(failure));
      }
      return;
    }
    InboundCall state = inbound.remove(call.requestId());
    if (state == null || state.cancelled) {
      return;
    }
    if (failure != null) {
      Throwable cause = Errors.unwrap(failure);
      if (!(cause instanceof PbException) || cause instanceof io.pbj.PbRemoteException) {
        log.debug("{}: remote method '{}' failed", this, call.method(), cause);
      }
      reply(call.requestId(), cause);
      return;
    }
    int requestId = call.requestId();
    ByteBuf buf;
    try {
      buf = encode(new Message.Answer(requestId, result));
    } catch (PbException pb) {
      if (pb.code() == Code.LIMIT_EXCEEDED) {
        strike(pb);
      }
      reply(requestId, pb);
      return;
    }
    write(buf);
  }

  private void reply(int requestId, Throwable cause) {
    send(new Message.Error(requestId, Errors.toWire(cause, config.sendStackTraces())));
  }

  /** One more reference-limit violation; the second one closes the connection. */
  private void strike(PbException cause) {
    if (limitStrikes.incrementAndGet() >= LIMIT_STRIKES) {
      fail(cause);
      channel.eventLoop().execute(() -> goodbye("too many references: " + cause.detail()));
    }
  }

  /** The incoming call running on this thread, for {@link #goodbyeAfterReply}. */
  private static final ThreadLocal<InboundCall> CURRENT_CALL = new ThreadLocal<>();

  /**
   * Says goodbye and closes the connection once the answer to the call now running on this
   * thread has been written (at once when called outside a remote method), so the caller gets
   * that answer before the connection closes.
   */
  public void goodbyeAfterReply(String reason) {
    InboundCall current = CURRENT_CALL.get();
    if (current == null) {
      goodbye(reason);
    } else {
      current.goodbyeReason = reason;
    }
  }

  /** Per incoming call: can be cancelled before or while it runs. */
  private static final class InboundCall {
    volatile boolean cancelled;
    volatile CompletableFuture<?> running;
    volatile String goodbyeReason;

    void cancel(Executor executor) {
      cancelled = true;
      CompletableFuture<?> f = running;
      if (f != null) {
        try {
          executor.execute(() -> f.cancel(true));
        } catch (RejectedExecutionException e) {
          ForkJoinPool.commonPool().execute(() -> f.cancel(true));
        }
      }
    }
  }

  // ---- encoding (on the sending thread) ----

  /**
   * Encodes {@code message} on the calling thread into a buffer ready for the channel. A value
   * that cannot be encoded throws a {@link PbException}, and every export it made is rolled back.
   * Calls made from one thread are encoded and written in order.
   */
  ByteBuf encode(Message message) {
    Encoder e = encoders.poll();
    if (e == null) {
      e = new Encoder();
    }
    Output out = e.output;
    out.reset();
    e.exported.clear();
    boolean ok = false;
    ByteBuf buf = null;
    try {
      WireCodec.encode(message, e.kryo, out);
      buf = channel.alloc().buffer(out.position());
      buf.writeBytes(out.getBuffer(), 0, out.position());
      ok = true;
    } catch (RuntimeException ex) {
      throw WireCodec.failure(
          ex, WireCodec.describe(message), true, config.maxDepth(), config.maxMessage());
    } finally {
      e.kryo.reset();
      if (!ok) {
        for (int id : e.exported) {
          exports.unsend(id);
        }
        PENDING_OBSERVERS.get().clear();
      }
      e.exported.clear();
      if (out.getBuffer().length > 64 * 1024) {
        e.output = new Output(4096, config.maxMessage());
      }
      // only now, with the bytes copied out, may another thread take this encoder
      if (encoders.size() < 16) {
        encoders.offer(e);
      }
    }
    messagesSent.increment();
    return buf;
  }

  /** Observers created by this thread's last encode, waiting for that message to be written. */
  private static final ThreadLocal<List<RealRemoteObserver>> PENDING_OBSERVERS =
      ThreadLocal.withInitial(ArrayList::new);

  /**
   * Writes a buffer from {@link #encode}, then lets the observers that encode created start
   * pushing: their updates are queued behind the message that carries their cache.
   */
  io.netty.channel.ChannelFuture write(ByteBuf buf) {
    io.netty.channel.ChannelFuture f = channel.writeAndFlush(buf);
    activatePendingObservers();
    return f;
  }

  /** Same as {@link #write} with a promise. */
  void write(ByteBuf buf, io.netty.channel.ChannelPromise promise) {
    channel.writeAndFlush(buf, promise);
    activatePendingObservers();
  }

  private static void activatePendingObservers() {
    List<RealRemoteObserver> pending = PENDING_OBSERVERS.get();
    if (pending.isEmpty()) {
      return;
    }
    List<RealRemoteObserver> now = new ArrayList<>(pending);
    pending.clear();
    for (RealRemoteObserver o : now) {
      o.activate();
    }
  }

  /** Encodes and writes {@code message}; encoding failures throw. */
  io.netty.channel.ChannelFuture send(Message message) {
    return write(encode(message));
  }

  /** One encoding context: a Kryo bound to this connection, its output, and its exports. */
  private final class Encoder implements KryoSetup.ReferenceCodec {
    final Kryo kryo = KryoSetup.create(config.registry(), config.maxDepth(), this);
    final List<Integer> exported = new ArrayList<>();
    Output output = new Output(4096, config.maxMessage());

    @Override
    public void write(Kryo kryo, Output out, Object value) {
      writeReference(this, kryo, out, value);
    }

    @Override
    public Object read(Kryo kryo, Input input) {
      throw new IllegalStateException("encoders do not decode");
    }
  }

  private void writeReference(Encoder encoder, Kryo kryo, Output output, Object value) {
    RealRemoteReference ref =
        value instanceof RealRemoteReference r ? r : TypedProxies.unwrap(value);
    if (ref != null) {
      if (ref.owner() != this) {
        throw new PbException(
            Code.UNSERIALIZABLE,
            ref + " belongs to another connection; references can only be sent back where they"
                + " came from");
      }
      if (ref.state().isReleased()) {
        throw new PbException(Code.DEAD_REFERENCE, ref + " was released");
      }
      output.writeByte(Wire.REF_MINE);
      output.writeVarInt(ref.id(), true);
      return;
    }
    if (value instanceof RemoteCache cache) {
      CacheHandle handle = CacheHandle.of(cache);
      if (handle == null || handle.connection != this) {
        throw new PbException(
            Code.UNSERIALIZABLE,
            cache.getClass().getName() + " belongs to another connection; caches can only be"
                + " sent back where they came from");
      }
      if (handle.state.isReleased()) {
        throw new PbException(Code.DEAD_REFERENCE, cache.getClass().getName() + " was released");
      }
      output.writeByte(Wire.REF_MINE);
      output.writeVarInt(handle.id, true);
      return;
    }
    if (value instanceof Cacheable cacheable) {
      Class<?> sentAs = cacheable.sentAs();
      Integer typeId = sentAs == null ? null : config.registry().cacheIdOf(sentAs);
      if (typeId == null) {
        throw new PbException(
            Code.UNSERIALIZABLE,
            cacheable.getClass().getName() + " is Cacheable but "
                + (sentAs == cacheable.getClass() ? "not registered (registerCache)"
                    : "is sent as " + (sentAs == null ? "null" : sentAs.getName())
                        + ", which is not registered (registerCache)"));
      }
      int id = exports.export(cacheable);
      encoder.exported.add(id);
      RealRemoteObserver observer = observerFor(cacheable, id);
      Object state = cacheable.stateFor(observer.perspective(), observer);
      output.writeByte(Wire.REF_CACHE);
      output.writeVarInt(id, true);
      output.writeVarInt(typeId, true);
      kryo.writeClassAndObject(output, state);
      return;
    }
    if (!(value instanceof Referenceable)) {
      throw new PbException(
          Code.UNSERIALIZABLE, value.getClass().getName() + " is neither registered nor Referenceable");
    }
    int id = exports.export(value);
    encoder.exported.add(id);
    output.writeByte(Wire.REF_YOURS);
    output.writeVarInt(id, true);
  }

  private RealRemoteObserver observerFor(Cacheable cacheable, int id) {
    synchronized (observers) {
      RealRemoteObserver o = observers.get(cacheable);
      if (o != null && o.id() == id) {
        return o;
      }
      // new, or exported again under a new id after the old observer's export was dropped
      RealRemoteObserver created = new RealRemoteObserver(this, cacheable, id, perspective);
      observers.put(cacheable, created);
      PENDING_OBSERVERS.get().add(created);
      whenDropped(cacheable, () -> cacheable.stoppedObserving(created.perspective(), created));
      return created;
    }
  }

  /**
   * The exporter dropped {@code object} (under the export table's lock, so a new export of the
   * same object cannot interleave): stop its observer at once, and run its drop listeners
   * ({@code stoppedObserving}, logout) on the executor.
   */
  private void exportDropped(Object object) {
    RealRemoteObserver o;
    synchronized (observers) {
      o = object instanceof Cacheable ? observers.remove(object) : null;
    }
    if (o != null) {
      o.stop();
    }
    runDropListener(object);
  }

  /** The channel can take more: let observers with queued updates drain, off the event loop. */
  void writable() {
    List<RealRemoteObserver> backlog = new ArrayList<>();
    synchronized (observers) {
      for (RealRemoteObserver o : observers.values()) {
        if (o.hasBacklog()) {
          backlog.add(o);
        }
      }
    }
    for (RealRemoteObserver o : backlog) {
      runOnExecutor(o::drain);
    }
  }

  /** Closes the connection because an observer fell too far behind. */
  void slowConsumer(String what) {
    PbException cause =
        new PbException(Code.LIMIT_EXCEEDED, "the peer reads too slowly: " + what);
    fail(cause);
    channel.close();
  }

  // ---- decoding (on the event loop) ----

  /**
   * The decoding side of references, used by the channel's Kryo on its event loop. New caches
   * are created here, but their state is set on the executor, before the message that carries
   * them is delivered: {@link #takeInits()} hands those steps over with the message.
   */
  final class Decoding implements KryoSetup.ReferenceCodec {
    private List<Runnable> inits = new ArrayList<>();

    List<Runnable> takeInits() {
      if (inits.isEmpty()) {
        return List.of();
      }
      List<Runnable> taken = inits;
      inits = new ArrayList<>();
      return taken;
    }

    @Override
    public void write(Kryo kryo, Output output, Object value) {
      throw new IllegalStateException("the decoding Kryo does not encode");
    }

    @Override
    public Object read(Kryo kryo, Input input) {
      byte kind = input.readByte();
      int id = input.readVarInt(true);
      if (kind == Wire.REF_YOURS || kind == Wire.REF_CACHE) {
        if (imports.size() >= config.maxReferences()) {
          throw new PbException(
              Code.LIMIT_EXCEEDED,
              "the peer sent more than maxReferences=" + config.maxReferences() + " references");
        }
      }
      if (kind == Wire.REF_YOURS) {
        return imports.receive(id);
      }
      if (kind == Wire.REF_CACHE) {
        int typeId = input.readVarInt(true);
        PbRegistry.CacheType type = config.registry().cacheTypes().get(typeId);
        if (type == null) {
          throw new KryoException("no RemoteCache class is registered for cache type id " + typeId);
        }
        ImportTable.CacheReceipt receipt =
            imports.receiveCache(id, () -> CacheHandle.instantiate(type.remoteCache()));
        Object state = kryo.readClassAndObject(input);
        if (receipt.created()) {
          RemoteCache cache = receipt.cache();
          inits.add(() -> CacheHandle.initialise(cache, state));
        }
        return receipt.cache();
      }
      if (kind == Wire.REF_MINE) {
        Object local = exports.lookup(id);
        if (local == null) {
          throw new KryoException("the peer sent back object #" + id + ", which is not exported");
        }
        return local;
      }
      throw new KryoException("unknown reference kind " + kind);
    }
  }

  private void queueRelease(int id, int receipts) {
    releases.add(new long[] {id, receipts});
    if (releaseFlushScheduled.compareAndSet(false, true)) {
      channel.eventLoop().execute(this::flushReleases);
    }
  }

  private void flushReleases() {
    releaseFlushScheduled.set(false);
    List<long[]> batch = new ArrayList<>();
    for (long[] r; (r = releases.poll()) != null; ) {
      batch.add(r);
    }
    if (batch.isEmpty() || !isOpen()) {
      return;
    }
    // at most ~12 bytes an entry: keep each batch well inside the smallest message limit
    int perMessage = Math.max(16, Math.min(4096, config.maxMessage() / 16));
    for (int from = 0; from < batch.size(); from += perMessage) {
      int n = Math.min(perMessage, batch.size() - from);
      int[] ids = new int[n];
      int[] receipts = new int[n];
      for (int i = 0; i < n; i++) {
        ids[i] = (int) batch.get(from + i)[0];
        receipts[i] = (int) batch.get(from + i)[1];
      }
      try {
        send(new Message.Release(ids, receipts));
      } catch (PbException e) {
        log.error("{}: could not send a release batch of {} ids", this, n, e);
      }
    }
  }

  // ---- executor hand-off ----

  private void runOnExecutor(Runnable r) {
    try {
      executor.execute(r);
    } catch (RejectedExecutionException e) {
      ForkJoinPool.commonPool().execute(r);
    }
  }

  private <T> void completeOnExecutor(CompletableFuture<T> f, T value) {
    runOnExecutor(() -> f.complete(value));
  }

  private void failOnExecutor(CompletableFuture<?> f, Throwable cause) {
    runOnExecutor(() -> f.completeExceptionally(cause));
  }

  /**
   * A call's future. Cancelling it cancels the call and tells the peer. A thread that blocks in
   * {@link #get()} or {@link #join()} before the answer arrives is handed the completion to run
   * itself (as gRPC's blocking calls do with a thread-less executor): one thread wake-up fewer,
   * and user code still never runs on the event loop. Otherwise the completion runs on the
   * connection's executor. An expected result type, if any, is checked as the answer completes it.
   */
  static final class CallFuture extends CompletableFuture<Object> {
    private static final int IDLE = 0;
    private static final int WAITING = 1;
    private static final int HANDED = 2;
    private static final int DISPATCHED = 3;
    private static final int RUNNING = 4;

    private final Connection connection;
    private final int requestId;
    private final String method;
    private final Class<?> resultType;
    private final AtomicInteger handoffState = new AtomicInteger(IDLE);
    private final java.util.concurrent.atomic.AtomicReference<Thread> waiter =
        new java.util.concurrent.atomic.AtomicReference<>();
    private volatile Runnable handoff;

    CallFuture(Connection connection, int requestId, String method, Class<?> resultType) {
      this.connection = connection;
      this.requestId = requestId;
      this.method = method;
      this.resultType = resultType;
    }

    /** Completes with an answer, checking its type; called from the delivered completion. */
    void answer(Object result) {
      if (resultType != null) {
        try {
          result = RealRemoteReference.castResult(resultType, method, result);
        } catch (PbException e) {
          completeExceptionally(e);
          return;
        }
      }
      complete(result);
    }

    /** Runs {@code completion} in the blocked caller if there is one, else on {@code executor}. */
    void deliver(Runnable completion, Executor executor) {
      handoff = completion;
      while (true) {
        int state = handoffState.get();
        if (state == WAITING) {
          if (handoffState.compareAndSet(WAITING, HANDED)) {
            LockSupport.unpark(waiter.get());
            return;
          }
        } else if (state == IDLE) {
          if (handoffState.compareAndSet(IDLE, DISPATCHED)) {
            // whoever claims it first runs it: the executor, or a caller that blocks meanwhile
            // (say a callback joining this future while queued behind itself)
            Runnable claimed =
                () -> {
                  if (handoffState.compareAndSet(DISPATCHED, RUNNING)) {
                    completion.run();
                  }
                };
            try {
              executor.execute(claimed);
            } catch (RejectedExecutionException e) {
              ForkJoinPool.commonPool().execute(claimed);
            }
            return;
          }
        } else {
          return;
        }
      }
    }

    /**
     * Waits for the hand-off as the executor of this call's completion. Returns false if the
     * caller should wait the ordinary way (someone else takes the completion, or time ran out).
     */
    private boolean awaitHandoff(long deadline, boolean timed, boolean interruptible)
        throws InterruptedException {
      if (isDone()) {
        return true;
      }
      Thread me = Thread.currentThread();
      while (true) {
        int state = handoffState.get();
        if (state == DISPATCHED) {
          if (handoffState.compareAndSet(DISPATCHED, RUNNING)) {
            handoff.run(); // queued but not started: run it here rather than wait behind it
            return true;
          }
        } else if (state == IDLE) {
          if (!waiter.compareAndSet(null, me)) {
            return false; // another thread is the designated waiter
          }
          if (handoffState.compareAndSet(IDLE, WAITING)) {
            break;
          }
          waiter.set(null); // dispatched meanwhile: look again
        } else {
          return false; // handed to another waiter, or running: wait for it the ordinary way
        }
      }
      boolean interrupted = false;
      try {
        while (true) {
          if (handoffState.get() == HANDED) {
            handoff.run();
            return true;
          }
          if (isDone() || interrupted || (timed && deadline - System.nanoTime() <= 0)) {
            if (handoffState.compareAndSet(WAITING, IDLE)) {
              waiter.set(null);
              if (interrupted && interruptible) {
                throw new InterruptedException();
              }
              return isDone();
            }
            continue; // handed over meanwhile: run it
          }
          if (timed) {
            LockSupport.parkNanos(this, deadline - System.nanoTime());
          } else {
            LockSupport.park(this);
          }
          if (Thread.interrupted()) {
            interrupted = true;
          }
        }
      } finally {
        if (interrupted && !interruptible) {
          Thread.currentThread().interrupt();
        }
      }
    }

    @Override
    public Object get() throws InterruptedException, java.util.concurrent.ExecutionException {
      awaitHandoff(0, false, true);
      return super.get();
    }

    @Override
    public Object get(long timeout, java.util.concurrent.TimeUnit unit)
        throws InterruptedException,
            java.util.concurrent.ExecutionException,
            java.util.concurrent.TimeoutException {
      long deadline = System.nanoTime() + unit.toNanos(timeout);
      awaitHandoff(deadline, true, true);
      return super.get(Math.max(0, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    @Override
    public Object join() {
      try {
        awaitHandoff(0, false, false);
      } catch (InterruptedException e) {
        throw new AssertionError(e); // not thrown when uninterruptible
      }
      return super.join();
    }

    @Override
    public boolean complete(Object value) {
      boolean done = super.complete(value);
      wakeWaiter();
      return done;
    }

    @Override
    public boolean completeExceptionally(Throwable ex) {
      boolean done = super.completeExceptionally(ex);
      wakeWaiter();
      return done;
    }

    private void wakeWaiter() {
      Thread t = waiter.get();
      if (t != null && t != Thread.currentThread()) {
        LockSupport.unpark(t);
      }
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean cancelled = super.cancel(mayInterruptIfRunning);
      wakeWaiter();
      if (cancelled) {
        connection.cancel(requestId);
      }
      return cancelled;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new CompletableFuture<>();
    }
  }
}
