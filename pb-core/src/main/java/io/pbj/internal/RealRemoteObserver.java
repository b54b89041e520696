package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.netty.buffer.ByteBuf;
import io.pbj.Backpressure;
import io.pbj.Cacheable;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbListener;
import io.pbj.RemoteObserver;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;

/**
 * One connection's observation of one {@link Cacheable}: pushes go straight to the channel while
 * it is writable; otherwise they wait in a bounded queue, and past the bound the Cacheable's
 * {@link Backpressure} policy applies (coalesce into a fresh state, or drop the connection).
 *
 * <p>Thread-safety: thread-safe; the queue and flags are guarded by this object's monitor, and
 * user code ({@link Cacheable#stateFor}) is never called while holding it.
 */
final class RealRemoteObserver implements RemoteObserver {
  private final Connection connection;
  private final Cacheable cacheable;
  private final int id;
  private final Object perspective;
  private final Backpressure policy;
  /** The start of this observer's CACHE_UPDATE messages: type and cache id (see SharedUpdate). */
  private final byte[] updateHeader;
  @GuardedBy("this")
  private final ArrayDeque<Message> queue = new ArrayDeque<>();
  @GuardedBy("this")
  private boolean needsState;
  /**
   * A fresh state is being taken: an update pushed meanwhile may or may not be in it, so it is not
   * sent as an update (it could be applied twice) but makes another state follow this one.
   */
  @GuardedBy("this")
  private boolean refreshing;
  @GuardedBy("this")
  private boolean draining;
  /** Until the message carrying the cache is handed to the channel, pushes wait. */
  @GuardedBy("this")
  private boolean pending = true;
  @GuardedBy("this")
  private boolean stopped;

  RealRemoteObserver(Connection connection, Cacheable cacheable, int id, Object perspective) {
    this.connection = connection;
    this.cacheable = cacheable;
    this.id = id;
    this.perspective = perspective;
    Backpressure p = cacheable.backpressure();
    this.policy = p == null ? Backpressure.DEFAULT : p;
    com.esotericsoftware.kryo.kryo5.io.Output header = new com.esotericsoftware.kryo.kryo5.io.Output(8);
    WireCodec.writeUpdateHeader(header, id);
    this.updateHeader = header.toBytes();
  }

  /** What {@link #admit} decided for a push. */
  private enum Admitted {
    /** Write it now. */
    DIRECT,
    /** Queued while the channel is full: record this observer in the backlog. */
    BACKLOG,
    /** Queued behind what is being sent, or coalesced: nothing more to do. */
    HELD,
    /** The observer has stopped. */
    STOPPED,
    /** Too many queued under {@link Backpressure.Mode#DISCONNECT}: the connection is closing. */
    DISCONNECTED
  }

  @Override
  public CompletableFuture<Void> callRemote(String method, Object... args) {
    return connection.config().observability()
        .push(connection, cacheable.getClass(), method, pushOne(method, args));
  }

  private CompletableFuture<Void> pushOne(String method, Object[] args) {
    Message.CacheUpdate update =
        new Message.CacheUpdate(id, method, args == null ? new Object[] {null} : args);
    switch (admit(update)) {
      case STOPPED:
        return CompletableFuture.failedFuture(
            new PbException(
                PbException.Code.DEAD_REFERENCE,
                "the observer of " + cacheable.getClass().getName() + " has stopped"));
      case DISCONNECTED:
        return CompletableFuture.failedFuture(
            new PbException(
                PbException.Code.LIMIT_EXCEEDED,
                "observer disconnected: more than " + policy.maxQueued() + " queued updates"));
      case BACKLOG:
        connection.observers().backlogged(this); // outside the monitor: it may start a drain
        return CompletableFuture.completedFuture(null);
      case DIRECT:
        return write(update);
      default:
        return CompletableFuture.completedFuture(null);
    }
  }

  /**
   * One observer's share of {@link Fanout#callRemoteAll}: as {@link #callRemote}, without a
   * future, and written from the bytes {@code shared} encoded once when it can be. Stopped
   * observers are skipped; an update that cannot be encoded throws.
   */
  void push(SharedUpdate shared) {
    Message.CacheUpdate update = new Message.CacheUpdate(id, shared.method(), shared.args());
    Admitted admitted = admit(update);
    if (admitted == Admitted.BACKLOG) {
      connection.observers().backlogged(this);
    } else if (admitted == Admitted.DIRECT) {
      ByteBuf body = shared.bodyFor(connection);
      if (body == null) {
        writeUnanswered(connection.encode(update)); // per connection: it holds references
      } else {
        ByteBuf message = shared.messageFor(connection, id, updateHeader);
        connection.sharedPushSent();
        writeUnanswered(message);
      }
    }
    Observability watch = connection.config().observability();
    if (admitted != Admitted.STOPPED && watch.watchesPushes()) { // nothing allocated per push else
      watch.push(
          connection, cacheable.getClass(), shared.method(),
          admitted == Admitted.DISCONNECTED
              ? CompletableFuture.failedFuture(new PbException(PbException.Code.LIMIT_EXCEEDED,
                  "observer disconnected: more than " + policy.maxQueued() + " queued updates"))
              : CompletableFuture.completedFuture(null));
    }
  }

  /** Decides, under the monitor, whether {@code update} is written now, queued or coalesced. */
  private Admitted admit(Message.CacheUpdate update) {
    boolean queued;
    synchronized (this) {
      if (stopped) {
        return Admitted.STOPPED;
      }
      if (needsState || refreshing) {
        needsState = true;
        return Admitted.HELD; // the next state will include it
      }
      boolean direct = !pending && queue.isEmpty() && !draining && connection.isWritable();
      queued = !direct;
      if (queued && queue.size() < policy.maxQueued()) {
        queue.add(update);
      } else if (queued) {
        String full = "more than " + policy.maxQueued() + " updates of "
            + cacheable.getClass().getName() + " queued";
        connection.config().observability().backpressure(connection,
            policy.mode() == Backpressure.Mode.DISCONNECT
                ? PbListener.Pressure.SLOW_CONSUMER_DISCONNECTED
                : PbListener.Pressure.UPDATES_COALESCED, full);
        if (policy.mode() == Backpressure.Mode.DISCONNECT) {
          stopped = true;
          queue.clear();
          connection.slowConsumer(
              "more than " + policy.maxQueued() + " updates of " + cacheable.getClass().getName()
                  + " queued (Backpressure.disconnect)");
          return Admitted.DISCONNECTED;
        }
        queue.clear();
        needsState = true;
      }
      // Queued behind a drain under way, or behind the message carrying the cache: those send
      // it. Queued because the channel is full: it waits for the channel's writability.
      queued &= !pending && !draining;
      if (direct) {
        return Admitted.DIRECT;
      }
      return queued ? Admitted.BACKLOG : Admitted.HELD;
    }
  }

  /** Writes a push nobody waits for, behind what other threads already queued on the loop. */
  private void writeUnanswered(Object msg) {
    io.netty.channel.Channel channel = connection.channel();
    if (!channel.eventLoop().inEventLoop()) {
      connection.writeUnanswered(msg);
      return;
    }
    try {
      channel.eventLoop().execute(() -> connection.writeUnanswered(msg));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      io.netty.util.ReferenceCountUtil.release(msg); // the loop is gone, and the channel with it
    }
  }

  private CompletableFuture<Void> write(Message message) {
    CompletableFuture<Void> written = new CompletableFuture<>();
    ByteBuf buf;
    try {
      buf = connection.encode(message);
    } catch (PbException e) {
      written.completeExceptionally(e);
      return written;
    }
    io.netty.channel.Channel channel = connection.channel();
    io.netty.channel.ChannelPromise promise = channel.newPromise();
    if (channel.eventLoop().inEventLoop()) {
      // behind writes other threads already queued on the loop, so order holds
      channel.eventLoop().execute(() -> connection.write(buf, promise));
    } else {
      connection.write(buf, promise);
    }
    promise
        .addListener(
            f -> {
              if (f.isSuccess()) {
                written.complete(null);
              } else {
                written.completeExceptionally(f.cause());
              }
            });
    return written;
  }

  @Override
  public <T> T as(Class<T> updates) {
    java.util.Objects.requireNonNull(updates, "updates");
    return TypedUpdates.view(this, updates, connection.config().registry(), cacheable.sentAs());
  }

  int id() {
    return id;
  }

  /** The message carrying the cache has been handed to the channel: pushes may follow it. */
  void activate() {
    synchronized (this) {
      pending = false;
    }
    drain();
  }

  /** Sends what waited while the channel was full or the cache was not sent yet. */
  void drain() {
    while (true) {
      Message next = null;
      boolean refresh = false;
      boolean full;
      synchronized (this) {
        if (stopped || draining || pending) {
          return;
        }
        // One look at the channel decides between waiting for it and sending: two looks could
        // see it writable, then full, and leave the updates waiting with nobody to drain them.
        full = !connection.isWritable();
        if (full) {
          if (queue.isEmpty() && !needsState) {
            return;
          }
        } else {
          next = queue.poll();
          if (next == null) {
            if (!needsState) {
              return;
            }
            needsState = false;
            refreshing = true;
            refresh = true;
          }
          draining = true;
        }
      }
      if (full) {
        connection.observers().backlogged(this);    // drains again when the channel can take more
        return;
      }
      try {
        if (refresh) {
          next = new Message.CacheState(id, cacheable.stateFor(perspective, this));
        }
        write(next);
      } finally {
        synchronized (this) {
          draining = false;
          refreshing = false;
        }
      }
    }
  }

  /** Stops observing; returns true the first time. */
  boolean stop() {
    synchronized (this) {
      if (stopped) {
        return false;
      }
      stopped = true;
      queue.clear();
      return true;
    }
  }

  @Override
  public PbConnection connection() {
    return connection;
  }

  @Override
  public Object perspective() {
    return perspective;
  }

  @Override
  public synchronized boolean isObserving() {
    return !stopped;
  }

  @Override
  public synchronized int queuedUpdates() {
    return queue.size();
  }

  @Override
  public String toString() {
    return "RemoteObserver[" + cacheable.getClass().getSimpleName() + "#" + id + " on "
        + connection + "]";
  }
}
