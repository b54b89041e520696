package io.pbj.store;

/**
 * A point-in-time view of a store's counters.
 *
 * <p>Immutable and thread-safe; counters are read without a global pause, so two of them may
 * be a few operations apart.
 *
 * <pre>{@code
 * StoreStats s = store.stats();
 * log.info("{} entries, {} of {} bytes, hit rate {}", s.entries(), s.bytes(), s.budgetBytes(),
 *     s.hits() / (double) Math.max(1, s.hits() + s.misses()));
 * }</pre>
 *
 * @param backend which implementation holds the data
 * @param entries entries visible to readers (committed plus queued puts)
 * @param bytes accounted size of those entries (state plus key and header overhead)
 * @param budgetBytes the configured budget; {@code Long.MAX_VALUE} when unbounded
 * @param hits reads that returned a snapshot
 * @param misses reads that found nothing (including checksum failures)
 * @param checksumFailures reads whose stored checksum did not match; each is also a miss
 * @param evictions entries removed to stay within the budget
 * @param queuedWrites puts and removes waiting for the write-behind commit
 * @param droppedWrites puts refused because the write-behind queue was full
 * @param commits transactions committed to the backend since open
 * @param quarantines times the store file was found damaged and moved aside since open (at open
 *     and while in use); each time the store went on with an empty file
 * @param fileBytes size of the store file on disk; 0 for the in-memory backend
 */
public record StoreStats(
    StoreBackend backend,
    long entries,
    long bytes,
    long budgetBytes,
    long hits,
    long misses,
    long checksumFailures,
    long evictions,
    long queuedWrites,
    long droppedWrites,
    long commits,
    long quarantines,
    long fileBytes) {}
