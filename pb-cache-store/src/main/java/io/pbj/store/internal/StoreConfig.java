package io.pbj.store.internal;

import io.pbj.store.StoreBackend;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Validated options for a store, produced by {@code SnapshotStoreBuilder}. Immutable and
 * thread-safe. Internal: not part of the public API.
 *
 * <pre>{@code
 * DefaultSnapshotStore.open(new StoreConfig(MEMORY, null, Long.MAX_VALUE, 1000,
 *     Duration.ofMillis(200), 10_000, true, true));
 * }</pre>
 */
public record StoreConfig(
    StoreBackend backend,
    Path path,
    long budgetBytes,
    int writeBatchSize,
    Duration writeInterval,
    int writeQueueBound,
    boolean quarantineDamaged,
    boolean createIfMissing) {}
