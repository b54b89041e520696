package io.pbj.store;

/**
 * One line of a prefix listing: a key, the version stored for it and the size of its state.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * Map<String, Long> inventory = new HashMap<>();
 * store.list(prefix).forEach(e -> inventory.put(e.key().identity(), e.version()));
 * }</pre>
 */
public record SnapshotEntry(SnapshotKey key, long version, int stateSize) {}
