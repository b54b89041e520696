package io.pbj.bench.rpc;

import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * One RPC stack under test: an echo server and one client connected to it over loopback TCP.
 *
 * <p>Lifecycle: {@link #start()} once, then any number of calls, then {@link #close()}, which
 * must stop every thread the stack started so the JVM can exit by itself.
 *
 * <p>Thread-safety: {@link #call} and {@link #callAsync} may be used from any number of threads
 * once {@link #start()} has returned.
 */
interface Stack extends AutoCloseable {

  /** Starts the server on an ephemeral loopback port and connects the client to it. */
  void start() throws Exception;

  /** One blocking echo round trip, with the stack's own blocking API where it has one. */
  byte[] call(byte[] payload) throws Exception;

  /**
   * One echo round trip that does not block the caller. The stage completes with the echoed
   * bytes, or exceptionally; it may complete on any thread.
   */
  CompletionStage<byte[]> callAsync(byte[] payload);

  /**
   * Makes up to {@code nanos.length} sequential round trips, each started once the one before it
   * has answered, until {@code deadline} ({@link System#nanoTime()}) passes; stores each one's
   * time in {@code nanos}, hands each answer to {@code check} and returns how many it made. The
   * default times {@link #call} on this thread; a stack that calls the way some code does (a
   * chain of callbacks) overrides it.
   */
  default int sequential(byte[] payload, long[] nanos, long deadline, Consumer<byte[]> check)
      throws Exception {
    int calls = 0;
    while (calls < nanos.length) {
      long start = System.nanoTime();
      byte[] echoed = call(payload);
      long end = System.nanoTime();
      check.accept(echoed);
      nanos[calls++] = end - start;
      if (end - deadline > 0) {
        break;
      }
    }
    return calls;
  }

  /** Disconnects the client and stops the server; idempotent. */
  @Override
  void close() throws Exception;
}
