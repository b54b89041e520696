package io.pbj.internal;

import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxies one side holds for objects the peer exported on one connection: at most one live
 * proxy per remote id, with how many times the id was received. When the proxy is released (by
 * the application, or by the garbage collector through a {@link Cleaner}), the receipt count goes
 * back to the exporter in the next release batch.
 *
 * <p>Thread-safety: thread-safe; receiving and releasing one id are atomic with respect to each
 * other, so a reference received while its release is in flight is never lost.
 */
final class ImportTable {
  private static final Cleaner CLEANER = Cleaner.create();

  /** What the cleaner needs to release a proxy: never refers back to the proxy itself. */
  static final class State implements Runnable {
    final int id;
    private final ImportTable table;
    private int receipts = 1;
    private boolean released;

    State(ImportTable table, int id) {
      this.table = table;
      this.id = id;
    }

    @Override
    public void run() {
      table.released(this);
    }

    boolean isReleased() {
      synchronized (this) {
        return released;
      }
    }
  }

  private static final class Entry {
    final WeakReference<RealRemoteReference> proxy;
    final State state;
    final Cleaner.Cleanable cleanable;

    Entry(RealRemoteReference proxy, State state) {
      this.proxy = new WeakReference<>(proxy);
      this.state = state;
      this.cleanable = CLEANER.register(proxy, state);
    }
  }

  /** Where releases go: the connection batches them. */
  interface Releaser {
    void release(int id, int receipts);
  }

  private final ConcurrentHashMap<Integer, Entry> entries = new ConcurrentHashMap<>();
  private final Connection connection;
  private final Releaser releaser;

  ImportTable(Connection connection, Releaser releaser) {
    this.connection = connection;
    this.releaser = releaser;
  }

  /** Records one receipt of {@code id} and returns its proxy, creating it if needed. */
  RealRemoteReference receive(int id) {
    RealRemoteReference[] result = new RealRemoteReference[1];
    entries.compute(
        id,
        (k, e) -> {
          RealRemoteReference live = e == null ? null : e.proxy.get();
          if (live != null) {
            synchronized (e.state) {
              e.state.receipts++;
            }
            result[0] = live;
            return e;
          }
          State state = new State(this, id);
          RealRemoteReference proxy = new RealRemoteReference(connection, id, state);
          result[0] = proxy;
          return new Entry(proxy, state);
        });
    return result[0];
  }

  /** Releases the proxy's entry now (explicit release); the cleaner will not run again. */
  void release(RealRemoteReference proxy) {
    Entry e = entries.get(proxy.id());
    if (e != null && e.state == proxy.state()) {
      e.cleanable.clean();
    } else {
      proxy.state().run();
    }
  }

  private void released(State state) {
    int[] receipts = {0};
    entries.computeIfPresent(state.id, (k, e) -> e.state == state ? null : e);
    synchronized (state) {
      if (state.released) {
        return;
      }
      state.released = true;
      receipts[0] = state.receipts;
    }
    if (connection.isOpen()) {
      releaser.release(state.id, receipts[0]);
    }
  }

  int size() {
    return entries.size();
  }

  void clear() {
    entries.clear();
  }
}
