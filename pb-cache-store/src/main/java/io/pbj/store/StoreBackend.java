package io.pbj.store;

/**
 * The implementation behind a {@link SnapshotStore}.
 *
 * <p>Enum constants are immutable and thread-safe.
 *
 * <pre>{@code
 * SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(dir.resolve("cache.mv")).build();
 * }</pre>
 */
public enum StoreBackend {
  /** MapDB 3 file store with transactions (the default); checksummed and quarantined on damage. */
  MAPDB,
  /** H2 MVStore: survives a kill inside a commit; same checks as MapDB. */
  MVSTORE,
  /** Heap only; nothing survives {@link SnapshotStore#close()}. */
  MEMORY
}
