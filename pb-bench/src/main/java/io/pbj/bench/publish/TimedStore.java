package io.pbj.bench.publish;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreStats;
import io.pbj.store.VerifyResult;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * A {@link SnapshotStore} that passes every call to another and adds up the time spent in reads
 * ({@code get}, {@code list}) and writes ({@code put}, {@code putAll}, {@code flush}), and notes
 * when the first read or write after {@link #reset} happened. It lets the benchmark split a
 * session's time into "answer delivered", store reads, store writes and the rest; the cost is two
 * {@code System.nanoTime()} calls per store call.
 *
 * <p>Thread-safety: thread-safe, as the store it wraps.
 */
final class TimedStore implements SnapshotStore {
  private final SnapshotStore store;
  private final LongAdder readNanos = new LongAdder();
  private final LongAdder listNanos = new LongAdder();
  private final LongAdder writeNanos = new LongAdder();
  private final LongAdder reads = new LongAdder();
  private final AtomicLong firstTouch = new AtomicLong();

  TimedStore(SnapshotStore store) {
    this.store = store;
  }

  /** Clears the counters. */
  void reset() {
    readNanos.reset();
    listNanos.reset();
    writeNanos.reset();
    reads.reset();
    firstTouch.set(0);
  }

  /** Nanoseconds spent in {@code get} and {@code getAll}. */
  long readNanos() {
    return readNanos.sum();
  }

  /** Nanoseconds spent in {@code list}. */
  long listNanos() {
    return listNanos.sum();
  }

  /** Nanoseconds spent in {@code put}, {@code putAll} and {@code flush}. */
  long writeNanos() {
    return writeNanos.sum();
  }

  /** Keys read by {@code get} and {@code getAll}. */
  long reads() {
    return reads.sum();
  }

  /** {@code System.nanoTime()} of the first get, put, putAll or flush since reset; 0 if none. */
  long firstTouchNanos() {
    return firstTouch.get();
  }

  private long start() {
    long t = System.nanoTime();
    firstTouch.compareAndSet(0, t);
    return t;
  }

  @Override
  public Optional<Snapshot> get(SnapshotKey key) {
    long t = start();
    try {
      return store.get(key);
    } finally {
      readNanos.add(System.nanoTime() - t);
      reads.increment();
    }
  }

  @Override
  public Map<SnapshotKey, Snapshot> getAll(Collection<SnapshotKey> keys) {
    long t = start();
    try {
      return store.getAll(keys);
    } finally {
      readNanos.add(System.nanoTime() - t);
      reads.add(keys.size());
    }
  }

  @Override
  public void put(SnapshotKey key, Snapshot snapshot) {
    long t = start();
    try {
      store.put(key, snapshot);
    } finally {
      writeNanos.add(System.nanoTime() - t);
    }
  }

  @Override
  public void putAll(Map<SnapshotKey, Snapshot> batch) {
    long t = start();
    try {
      store.putAll(batch);
    } finally {
      writeNanos.add(System.nanoTime() - t);
    }
  }

  @Override
  public void remove(SnapshotKey key) {
    store.remove(key);
  }

  @Override
  public List<SnapshotEntry> list(SnapshotPrefix prefix) {
    long t = System.nanoTime();
    try {
      return store.list(prefix);
    } finally {
      listNanos.add(System.nanoTime() - t);
    }
  }

  @Override
  public long size() {
    return store.size();
  }

  @Override
  public StoreStats stats() {
    return store.stats();
  }

  @Override
  public void flush() {
    long t = start();
    try {
      store.flush();
    } finally {
      writeNanos.add(System.nanoTime() - t);
    }
  }

  @Override
  public VerifyResult verify() {
    return store.verify();
  }

  @Override
  public void close() {
    store.close();
  }
}
