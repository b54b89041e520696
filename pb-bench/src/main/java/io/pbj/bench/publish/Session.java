package io.pbj.bench.publish;

/**
 * What one client session cost, from just before the attach call to activation done.
 *
 * <p>Immutable.
 *
 * @param nanos wall time from the attach call to every object activated
 * @param bytesSent bytes the client's connection wrote in that time (framing included)
 * @param bytesReceived bytes it read in that time
 * @param extraCalls calls beyond the one that delivered the objects
 * @param objects objects activated
 * @param hits objects activated from the store
 * @param fromServer objects whose state came from the server (inline or fetched)
 * @param answerNanos from the attach call to the first store read or write (about when the
 *     answer was delivered and activation began); 0 for the plain strategy, which has no store
 * @param listNanos time in the store's {@code list} (the inventory)
 * @param readNanos time in the store's {@code get}
 * @param writeNanos time in the store's {@code put}, {@code putAll} and {@code flush}, inside
 *     the session
 * @param droppedWrites puts the store's write-behind queue dropped during the session (the client
 *     then flushes and writes them again)
 */
record Session(
    long nanos,
    long bytesSent,
    long bytesReceived,
    long extraCalls,
    int objects,
    int hits,
    int fromServer,
    long answerNanos,
    long listNanos,
    long readNanos,
    long writeNanos,
    long droppedWrites) {

  long bytes() {
    return bytesSent + bytesReceived;
  }

  /** Time not in the answer (inventory included) or the store: fetches, applying, hooks. */
  long restNanos() {
    return Math.max(0, nanos - answerNanos - readNanos - writeNanos);
  }
}
