package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;

/**
 * Listeners waiting for the peer to drop an exported object (a Cacheable's observer ending, an
 * avatar's logout), by object identity. Each runs once, on the executor: when the export table
 * drops the object, or when the connection closes.
 *
 * <p>Thread-safety: thread-safe; the map is guarded by this object's monitor, and listeners never
 * run while it is held.
 */
final class DropListeners {
  private final Executor executor;

  @GuardedBy("this")
  private final Map<Object, Runnable> listeners = new IdentityHashMap<>();

  DropListeners(Executor executor) {
    this.executor = executor;
  }

  /** Adds {@code listener} for {@code object}, after any added before it. */
  synchronized void add(Object object, Runnable listener) {
    listeners.merge(
        object,
        listener,
        (a, b) ->
            () -> {
              a.run();
              b.run();
            });
  }

  /** {@code object} was dropped: its listeners run. */
  void dropped(Object object) {
    Runnable r;
    synchronized (this) {
      r = listeners.remove(object);
    }
    if (r != null) {
      Handoff.execute(executor, r);
    }
  }

  /** The connection closed: every listener runs. */
  void droppedAll() {
    List<Runnable> all;
    synchronized (this) {
      all = new ArrayList<>(listeners.values());
      listeners.clear();
    }
    for (Runnable r : all) {
      Handoff.execute(executor, r);
    }
  }
}
