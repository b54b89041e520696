package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The observers of one connection: for each {@link Cacheable} exported to the peer, the {@link
 * RealRemoteObserver} that pushes its updates. An observer is created when its Cacheable is first
 * encoded, starts pushing once the message carrying the cache is handed to the channel, drains its
 * backlog when the channel becomes writable again, and stops when the peer drops the cache or the
 * connection closes.
 *
 * <p>Thread-safety: thread-safe; the map is guarded by its own monitor, and no user code runs
 * while it is held.
 */
final class CacheObservers {
  /** Observers created by this thread's last encode, waiting for that message to be written. */
  private static final ThreadLocal<List<RealRemoteObserver>> PENDING =
      ThreadLocal.withInitial(ArrayList::new);

  private final Connection connection;

  @GuardedBy("observers")
  private final Map<Cacheable, RealRemoteObserver> observers = new IdentityHashMap<>();

  /** Observers with updates queued while the channel was full (see {@link #backlogged}). */
  private final Set<RealRemoteObserver> backlog = ConcurrentHashMap.newKeySet();

  /** A {@link #drainBacklog} task is scheduled or running. */
  private final AtomicBoolean drainScheduled = new AtomicBoolean();

  CacheObservers(Connection connection) {
    this.connection = connection;
  }

  /**
   * The observer of {@code cacheable} exported as {@code id}: the existing one, or a new one (also
   * when the object was exported again under a new id after the old export was dropped). A new
   * observer waits, as pending on this thread, until {@link #activatePending()}.
   */
  RealRemoteObserver observerFor(Cacheable cacheable, int id) {
    synchronized (observers) {
      RealRemoteObserver o = observers.get(cacheable);
      if (o != null && o.id() == id) {
        return o;
      }
      RealRemoteObserver created =
          new RealRemoteObserver(connection, cacheable, id, connection.perspective());
      observers.put(cacheable, created);
      PENDING.get().add(created);
      connection.whenDropped(
          cacheable, () -> cacheable.stoppedObserving(created.perspective(), created));
      return created;
    }
  }

  /**
   * The message this thread encoded last has been handed to the channel: the observers its encode
   * created may push, their updates queued behind it.
   */
  static void activatePending() {
    List<RealRemoteObserver> pending = PENDING.get();
    if (pending.isEmpty()) {
      return;
    }
    List<RealRemoteObserver> now = new ArrayList<>(pending);
    pending.clear();
    for (RealRemoteObserver o : now) {
      o.activate();
    }
  }

  /** The encode on this thread failed: its new observers will never be written. */
  static void discardPending() {
    PENDING.get().clear();
  }

  /**
   * The exporter dropped {@code object} (under the export table's lock, so a new export of the
   * same object cannot interleave): stop its observer at once.
   */
  void dropped(Object object) {
    if (!(object instanceof Cacheable)) {
      return;
    }
    RealRemoteObserver o;
    synchronized (observers) {
      o = observers.remove(object);
    }
    if (o != null) {
      backlog.remove(o);
      o.stop();
    }
  }

  /**
   * {@code o} has updates queued because the channel was full: it drains when the channel can
   * take more. If the channel became writable before this was recorded, its writability change
   * has passed already, so the drain is started here.
   */
  void backlogged(RealRemoteObserver o) {
    backlog.add(o);
    if (connection.isWritable()) {
      writable();
    }
  }

  /**
   * The channel can take more: let the observers with queued updates drain, one after another in
   * one task off the event loop. The work is the backlog's, not the number of observers (a scan
   * of every observer on every writability change cost a server with 10,000 observers per
   * connection most of its event loop).
   */
  void writable() {
    if (!backlog.isEmpty() && drainScheduled.compareAndSet(false, true)) {
      Handoff.execute(connection.executor(), this::drainBacklog);
    }
  }

  private void drainBacklog() {
    try {
      Iterator<RealRemoteObserver> it = backlog.iterator();
      while (it.hasNext() && connection.isWritable()) {
        RealRemoteObserver o = it.next();
        it.remove();
        o.drain();    // records itself again if the channel fills before it is done
      }
    } finally {
      drainScheduled.set(false);
    }
    if (connection.isWritable()) {
      writable();    // observers recorded after the loop passed them
    }
  }

  /** The connection closed: every observer stops. */
  void stopAll() {
    List<RealRemoteObserver> watching;
    synchronized (observers) {
      watching = new ArrayList<>(observers.values());
      observers.clear();
    }
    backlog.clear();
    for (RealRemoteObserver o : watching) {
      o.stop();
    }
  }
}
