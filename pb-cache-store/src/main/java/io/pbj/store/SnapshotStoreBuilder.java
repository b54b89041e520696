package io.pbj.store;

import io.pbj.store.internal.BackendClasses;
import io.pbj.store.internal.DefaultSnapshotStore;
import io.pbj.store.internal.StoreConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Configures and opens a {@link SnapshotStore}. Every option may be set at most once; setting
 * one twice, or setting options that conflict, fails at once naming the option.
 *
 * <p>Not thread-safe: configure on one thread, then call {@link #build()}. The store it builds
 * is thread-safe.
 *
 * <pre>{@code
 * SnapshotStore store = SnapshotStore.builder()
 *     .backend(StoreBackend.MVSTORE)
 *     .path(Path.of("cache/snapshots.mv"))
 *     .budgetBytes(64L << 20)
 *     .writeBatchSize(500)
 *     .writeInterval(Duration.ofMillis(50))
 *     .build();
 * }</pre>
 *
 * <p>Defaults: backend {@link StoreBackend#MAPDB}; no budget; a commit every 1000 entries or
 * 200 ms; at most 10,000 queued puts; a damaged file is quarantined; a missing file is created.
 */
public final class SnapshotStoreBuilder {
  private StoreBackend backend;
  private Path path;
  private Long budgetBytes;
  private Integer writeBatchSize;
  private Duration writeInterval;
  private Integer writeQueueBound;
  private Boolean quarantineDamaged;
  private Boolean createIfMissing;

  SnapshotStoreBuilder() {}

  /** Which implementation to use; default {@link StoreBackend#MAPDB}. */
  public SnapshotStoreBuilder backend(StoreBackend backend) {
    once("backend", this.backend);
    this.backend = Objects.requireNonNull(backend, "SnapshotStoreBuilder.backend");
    return this;
  }

  /** The store file; required for disk backends, refused for {@link StoreBackend#MEMORY}. */
  public SnapshotStoreBuilder path(Path path) {
    once("path", this.path);
    this.path = Objects.requireNonNull(path, "SnapshotStoreBuilder.path");
    return this;
  }

  /** Size budget in bytes; least recently used entries are evicted beyond it. Must be > 0. */
  public SnapshotStoreBuilder budgetBytes(long bytes) {
    once("budgetBytes", this.budgetBytes);
    if (bytes <= 0) {
      throw new IllegalArgumentException("SnapshotStoreBuilder.budgetBytes must be > 0, was " + bytes);
    }
    this.budgetBytes = bytes;
    return this;
  }

  /** Commit as soon as this many puts are queued. Must be > 0; default 1000. */
  public SnapshotStoreBuilder writeBatchSize(int entries) {
    once("writeBatchSize", this.writeBatchSize);
    if (entries <= 0) {
      throw new IllegalArgumentException(
          "SnapshotStoreBuilder.writeBatchSize must be > 0, was " + entries);
    }
    this.writeBatchSize = entries;
    return this;
  }

  /** Commit at most this long after the first queued change. Must be positive; default 200 ms. */
  public SnapshotStoreBuilder writeInterval(Duration interval) {
    once("writeInterval", this.writeInterval);
    Objects.requireNonNull(interval, "SnapshotStoreBuilder.writeInterval");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException(
          "SnapshotStoreBuilder.writeInterval must be positive, was " + interval);
    }
    this.writeInterval = interval;
    return this;
  }

  /**
   * Most puts that may wait for a commit; beyond it new puts are dropped (see {@link
   * SnapshotStore}). Must be >= writeBatchSize; default 10,000.
   */
  public SnapshotStoreBuilder writeQueueBound(int puts) {
    once("writeQueueBound", this.writeQueueBound);
    if (puts <= 0) {
      throw new IllegalArgumentException(
          "SnapshotStoreBuilder.writeQueueBound must be > 0, was " + puts);
    }
    this.writeQueueBound = puts;
    return this;
  }

  /**
   * Whether a damaged, truncated or foreign file is renamed aside and replaced by an empty store,
   * at open or whenever a later read or commit meets damage (default true), or refused with
   * {@link StoreException.Reason#DAMAGED} and left as it is (what an inspector wants).
   */
  public SnapshotStoreBuilder quarantineDamaged(boolean quarantine) {
    once("quarantineDamaged", this.quarantineDamaged);
    this.quarantineDamaged = quarantine;
    return this;
  }

  /** Whether a missing file is created (default true) or refused with NOT_FOUND. */
  public SnapshotStoreBuilder createIfMissing(boolean create) {
    once("createIfMissing", this.createIfMissing);
    this.createIfMissing = create;
    return this;
  }

  /**
   * Opens the store: takes the file lock, validates the file (quarantining it if damaged) and
   * starts the write-behind thread.
   *
   * @throws IllegalStateException when the backend's library (org.mapdb:mapdb for MAPDB,
   *     com.h2database:h2 for MVSTORE) is not on the class path, naming it
   * @throws StoreException IN_USE when another process holds the store, DAMAGED or
   *     UNSUPPORTED_FORMAT when the file cannot be used, IO on a file-system error
   */
  public SnapshotStore build() {
    StoreBackend b = backend == null ? StoreBackend.MAPDB : backend;
    BackendClasses.require(b);
    if (b == StoreBackend.MEMORY && path != null) {
      throw new IllegalStateException(
          "SnapshotStoreBuilder.path conflicts with backend MEMORY: an in-memory store has no file");
    }
    if (b != StoreBackend.MEMORY && path == null) {
      throw new IllegalStateException("SnapshotStoreBuilder.path is required for backend " + b);
    }
    int batch = writeBatchSize == null ? 1000 : writeBatchSize;
    int bound = writeQueueBound == null ? Math.max(10_000, batch) : writeQueueBound;
    if (bound < batch) {
      throw new IllegalStateException(
          "SnapshotStoreBuilder.writeQueueBound (" + bound + ") must be >= writeBatchSize (" + batch
              + ")");
    }
    StoreConfig config =
        new StoreConfig(
            b,
            path,
            budgetBytes == null ? Long.MAX_VALUE : budgetBytes,
            batch,
            writeInterval == null ? Duration.ofMillis(200) : writeInterval,
            bound,
            quarantineDamaged == null || quarantineDamaged,
            createIfMissing == null || createIfMissing);
    return DefaultSnapshotStore.open(config);
  }

  private static void once(String option, Object current) {
    if (current != null) {
      throw new IllegalStateException("SnapshotStoreBuilder." + option + " was already set");
    }
  }
}
