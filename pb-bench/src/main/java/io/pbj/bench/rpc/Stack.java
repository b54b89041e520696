package io.pbj.bench.rpc;

import java.util.concurrent.CompletionStage;

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

  /** Disconnects the client and stops the server; idempotent. */
  @Override
  void close() throws Exception;
}
