package io.pbj.bench.publish;

/**
 * One repetition for one link, strategy and stale level: a cold session on an empty store, then the
 * server makes the stale fraction of objects stale, then a warm session on the same store,
 * reopened.
 *
 * <p>Immutable.
 *
 * @param link where the client talked to the servers
 * @param strategy the strategy
 * @param stalePercent the stale level
 * @param staleObjects objects changed between the sessions
 * @param cold the first session
 * @param coldFlushNanos the store's {@code flush()} right after the cold session (the write-behind
 *     commits it had not finished by activation done); 0 without a store
 * @param openNanos opening the store file again before the warm session; 0 without a store
 * @param warm the later session
 * @param warmFlushNanos the store's {@code flush()} right after the warm session
 */
record Measurement(
    Link link,
    Strategy strategy,
    double stalePercent,
    int staleObjects,
    Session cold,
    long coldFlushNanos,
    long openNanos,
    Session warm,
    long warmFlushNanos) {}
