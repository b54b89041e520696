package io.pbj.bench.rpc;

import java.util.Random;

/**
 * Runs a stack in this JVM.
 *
 * <p>Thread-safety: not thread-safe; one measurement at a time.
 */
final class InProcessRunner implements StackRunner {
  private final StackKind kind;
  private final Harness harness;
  private final Stack stack;

  /** Starts {@code kind}'s stack; on failure, whatever it started is closed again. */
  InProcessRunner(StackKind kind, Harness.Settings settings) throws Exception {
    this.kind = kind;
    this.harness = new Harness(settings);
    this.stack = kind.newStack();
    try {
      stack.start();
    } catch (Exception | Error e) {
      closeQuietly(stack, e);
      throw e;
    }
  }

  @Override
  public Measurement measure(int payloadBytes, boolean firstRound) throws Exception {
    byte[] payload = payload(payloadBytes);
    harness.warmUp(stack, payload, firstRound);
    Harness.Latency latency = harness.sequential(stack, payload);
    double callsPerSecond = harness.pipelined(stack, payload);
    return new Measurement(kind, payloadBytes, latency, callsPerSecond);
  }

  @Override
  public void close() {
    closeQuietly(stack, null);
  }

  private void closeQuietly(Stack toClose, Throwable primary) {
    try {
      toClose.close();
    } catch (Exception e) {
      if (primary != null) {
        primary.addSuppressed(e);
      } else {
        System.err.println("rpc: closing " + kind.id() + " failed: " + e);
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A payload of {@code size} bytes, the same every run. */
  private static byte[] payload(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }
}
