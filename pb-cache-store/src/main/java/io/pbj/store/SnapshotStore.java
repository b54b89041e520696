package io.pbj.store;

import java.io.Closeable;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A local cache of snapshots keyed by {@link SnapshotKey}: a size-bounded, least-recently-used
 * map whose writes go to disk in batches behind the caller's back.
 *
 * <p><b>Thread-safety:</b> implementations are safe for use by any number of threads at once;
 * every method may be called concurrently with every other, and a write is visible to all
 * readers as soon as the writing call returns (before it is committed to disk).
 *
 * <p><b>Durability:</b> {@link #put}, {@link #putAll} and {@link #remove} enqueue the change and
 * return without touching the disk; a single writer thread commits the queue every
 * {@code writeBatchSize} entries or every {@code writeInterval}, whichever comes first, and on
 * {@link #flush()} and {@link #close()}. A {@link #putAll} batch is always committed in one
 * transaction: after a crash, either all of it is there or none of it. When the queue already
 * holds {@code writeQueueBound} puts, a new put is <em>dropped</em> (counted in {@link
 * StoreStats#droppedWrites()}) and the key reads as a miss from then on, never as stale data.
 *
 * <p><b>Integrity:</b> every entry carries a CRC32C over its key, version and bytes, checked on
 * every read; a mismatch is logged and reads as a miss. A file that fails validation on open
 * (including one cut short: shorter, or older, than its header promises), or whose backend fails
 * on any later read, scan or commit, is renamed aside (kept for diagnosis) and the store goes on
 * empty: the call that met the damage answers as a miss or a no-op, queued writes that had not
 * reached the file are kept, a batch being committed is lost (it is only cache). Unless
 * quarantine is off, no method throws for a damaged file; with it off, a read that meets damage
 * throws {@link StoreException} with {@link StoreException.Reason#DAMAGED}. No method lets a
 * backend's own exception type out, except as the cause of a {@code StoreException}.
 *
 * <pre>{@code
 * try (SnapshotStore store = SnapshotStore.builder()
 *     .path(Path.of("cache/snapshots.db"))
 *     .budgetBytes(256L << 20)
 *     .build()) {
 *   SnapshotKey key = new SnapshotKey("hub:7000", "world", "guest", "room-17");
 *   store.put(key, Snapshot.of(42L, 1, bytes));
 *   Optional<Snapshot> back = store.get(key);
 *   List<SnapshotEntry> inventory = store.list(key.prefix());
 * }
 * }</pre>
 */
public interface SnapshotStore extends Closeable {

  /** A builder for a store; see {@link SnapshotStoreBuilder} for the options. */
  static SnapshotStoreBuilder builder() {
    return new SnapshotStoreBuilder();
  }

  /** The snapshot for {@code key}, or empty when absent, evicted or failing its checksum. */
  Optional<Snapshot> get(SnapshotKey key);

  /**
   * The snapshots present for {@code keys}, as {@link #get} would answer each (absent, evicted
   * and damaged entries are left out), read in one pass: keys that lie close together in key
   * order (one server/service/perspective, say) are read with one ordered scan of the backend
   * rather than a lookup each, which is several times faster for thousands of keys.
   */
  default Map<SnapshotKey, Snapshot> getAll(Collection<SnapshotKey> keys) {
    Map<SnapshotKey, Snapshot> out = new java.util.HashMap<>();
    for (SnapshotKey key : keys) {
      get(key).ifPresent(s -> out.put(key, s));
    }
    return out;
  }

  /** Stores {@code snapshot} under {@code key}, replacing any earlier one; never blocks on disk. */
  void put(SnapshotKey key, Snapshot snapshot);

  /** Stores every entry of {@code batch} as one atomic unit; never blocks on disk. */
  void putAll(Map<SnapshotKey, Snapshot> batch);

  /** Removes {@code key} if present; never blocks on disk. */
  void remove(SnapshotKey key);

  /**
   * The keys under {@code prefix} with their versions, sorted by key, answered from an
   * in-memory ordered index without reading any state.
   */
  List<SnapshotEntry> list(SnapshotPrefix prefix);

  /** Number of entries visible to readers. */
  long size();

  /** Current counters. */
  StoreStats stats();

  /** Blocks until every change made before this call is committed to the backend. */
  void flush();

  /**
   * Flushes, then reads every committed entry and checks its checksum, and that the file holds as
   * many entries as its header promises. Slow on a large store: meant for the inspector and for
   * tests. Damage is reported in the result, never thrown (if the backend itself fails, the
   * result says so and, with quarantine on, that the file was moved aside).
   */
  VerifyResult verify();

  /** Flushes the write-behind queue, closes the backend and releases the file lock. Idempotent. */
  @Override
  void close();
}
