package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.RemoteCache;
import java.lang.ref.Cleaner;
import java.lang.ref.WeakReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * What one side holds of the objects the peer exported on one connection: at most one live proxy
 * (a {@link RealRemoteReference}, or a {@link RemoteCache} for a Cacheable) per remote id, with
 * how many times the id was received. When the proxy is released (by the application, or by the
 * garbage collector through a {@link Cleaner}), the receipt count goes back to the exporter in
 * the next release batch.
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
    final WeakReference<Object> proxy;
    final State state;
    final Cleaner.Cleanable cleanable;

    Entry(Object proxy, State state) {
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

  /** Records one receipt of reference {@code id} and returns its proxy, creating it if needed. */
  RealRemoteReference receive(int id) {
    Object proxy =
        receive(
            id,
            state -> new RealRemoteReference(connection, id, state),
            RealRemoteReference.class);
    return (RealRemoteReference) proxy;
  }

  /** The outcome of receiving a cache: the instance, and whether it was created just now. */
  record CacheReceipt(RemoteCache cache, boolean created) {}

  /**
   * Records one receipt of cache {@code id} and returns its instance, creating it (with {@code
   * factory}, then attaching its handle) if needed.
   */
  CacheReceipt receiveCache(int id, Supplier<RemoteCache> factory) {
    boolean[] created = {false};
    Object cache =
        receive(
            id,
            state -> {
              RemoteCache c = factory.get();
              CacheHandle.attach(c, new CacheHandle(connection, id, state));
              created[0] = true;
              return c;
            },
            RemoteCache.class);
    return new CacheReceipt((RemoteCache) cache, created[0]);
  }

  private interface ProxyFactory {
    Object create(State state);
  }

  private Object receive(int id, ProxyFactory factory, Class<?> kind) {
    Object[] result = new Object[1];
    entries.compute(
        id,
        (k, e) -> {
          Object live = e == null || e.state.isReleased() ? null : e.proxy.get();
          if (live != null) {
            if (!kind.isInstance(live)) {
              throw new PbException(
                  PbException.Code.PROTOCOL_ERROR,
                  "the peer sent object #" + id + " as a " + kind.getSimpleName()
                      + " but it is a " + live.getClass().getSimpleName());
            }
            synchronized (e.state) {
              e.state.receipts++;
            }
            result[0] = live;
            return e;
          }
          State state = new State(this, id);
          Object proxy = factory.create(state);
          result[0] = proxy;
          return new Entry(proxy, state);
        });
    return result[0];
  }

  /** The live cache for {@code id}, or null. */
  RemoteCache cache(int id) {
    Entry e = entries.get(id);
    Object o = e == null ? null : e.proxy.get();
    return o instanceof RemoteCache c ? c : null;
  }

  /** Releases the proxy's entry now (explicit release); the cleaner will not run again. */
  void release(RealRemoteReference proxy) {
    release(proxy.id(), proxy.state());
  }

  void releaseCache(CacheHandle handle) {
    release(handle.id, handle.state);
  }

  private void release(int id, State state) {
    Entry e = entries.get(id);
    if (e != null && e.state == state) {
      e.cleanable.clean();
    } else {
      state.run();
    }
  }

  private void released(State state) {
    int[] receipts = {-1};
    // marking released and reading the count happen atomically with receive() for this id
    entries.compute(
        state.id,
        (k, e) -> {
          synchronized (state) {
            if (!state.released) {
              state.released = true;
              receipts[0] = state.receipts;
            }
          }
          return e != null && e.state == state ? null : e;
        });
    if (receipts[0] >= 0 && connection.isOpen()) {
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
