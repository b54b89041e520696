package io.pbj.bench.rpc;

/**
 * A started stack that can be measured round after round, in this JVM ({@link InProcessRunner})
 * or in a JVM of its own ({@link ForkedRunner}).
 *
 * <p>Thread-safety: not thread-safe; one measurement at a time.
 */
interface StackRunner extends AutoCloseable {

  /** Warms up (fully in the first round, briefly after) and measures one payload size. */
  Measurement measure(int payloadBytes, boolean firstRound) throws Exception;

  /** Stops the stack (and its JVM, if it has one); idempotent. */
  @Override
  void close();
}
