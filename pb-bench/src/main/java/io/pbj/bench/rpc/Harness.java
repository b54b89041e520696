package io.pbj.bench.rpc;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Measures one started {@link Stack} with one payload: sequential round trips (each call timed
 * with {@link System#nanoTime()}, the sorted times read for percentiles) and pipelined throughput
 * (a fixed number of calls in flight, topped up as answers arrive, for a fixed time).
 *
 * <p>Every answer is checked to be as long as the payload and to end with its last byte, so a
 * stack that answers wrongly fails instead of looking fast.
 *
 * <p>Thread-safety: stateless apart from its settings; one measurement at a time per stack.
 */
final class Harness {
  /** Longest wait for the calls still in flight when a pipelined run ends. */
  private static final long DRAIN_TIMEOUT_SECONDS = 30;

  /**
   * How much to measure.
   *
   * @param rounds how many times each stack is measured, the stacks taking turns
   * @param warmupCalls sequential calls before the first round
   * @param rewarmCalls sequential calls before each later round
   * @param measuredCalls sequential calls timed per round
   * @param maxSequentialTime stop warming up or timing sequential calls after this long
   * @param window calls in flight in the pipelined run
   * @param pipelineWarmup pipelined run before the first round's measurement
   * @param pipelineRewarm pipelined run before each later round's measurement
   * @param pipelineMeasure pipelined run measured per round
   */
  record Settings(
      int rounds,
      int warmupCalls,
      int rewarmCalls,
      int measuredCalls,
      Duration maxSequentialTime,
      int window,
      Duration pipelineWarmup,
      Duration pipelineRewarm,
      Duration pipelineMeasure) {

    /**
     * The default run: 20k warm-up calls and 1.5 s pipelined, then three rounds of 17k timed
     * calls (51k in all) and 1.5 s pipelined.
     */
    static Settings full(int window) {
      return new Settings(
          3,
          20_000,
          2_000,
          17_000,
          Duration.ofSeconds(10),
          window,
          Duration.ofMillis(1_500),
          Duration.ofMillis(300),
          Duration.ofMillis(1_500));
    }

    /** A smoke run: enough to see that every stack works, not to trust the numbers. */
    static Settings quick(int window) {
      return new Settings(
          1,
          2_000,
          0,
          5_000,
          Duration.ofSeconds(5),
          window,
          Duration.ofMillis(300),
          Duration.ZERO,
          Duration.ofMillis(700));
    }
  }

  /**
   * Sequential latency.
   *
   * @param p50Micros median round trip in microseconds
   * @param p99Micros 99th percentile round trip in microseconds
   * @param calls how many calls were timed
   */
  record Latency(double p50Micros, double p99Micros, int calls) {}

  private final Settings settings;

  Harness(Settings settings) {
    this.settings = settings;
  }

  /**
   * Warms {@code stack} up for {@code payload}: sequential calls, then a pipelined run. The first
   * round gets the full warm-up, later ones a short one, as the JIT is warm by then but the
   * stack's threads have been idle while the other stacks ran.
   */
  void warmUp(Stack stack, byte[] payload, boolean firstRound) throws Exception {
    int calls = firstRound ? settings.warmupCalls() : settings.rewarmCalls();
    long deadline = System.nanoTime() + settings.maxSequentialTime().toNanos();
    if (calls > 0) {
      stack.sequential(payload, new long[calls], deadline, echoed -> check(payload, echoed));
    }
    Duration pipelined = firstRound ? settings.pipelineWarmup() : settings.pipelineRewarm();
    if (!pipelined.isZero()) {
      runWindow(stack, payload, pipelined);
    }
  }

  /** Times {@code measuredCalls} sequential calls (fewer if time runs out). */
  Latency sequential(Stack stack, byte[] payload) throws Exception {
    long[] nanos = new long[settings.measuredCalls()];
    long deadline = System.nanoTime() + settings.maxSequentialTime().toNanos();
    int calls = stack.sequential(payload, nanos, deadline, echoed -> check(payload, echoed));
    long[] timed = Arrays.copyOf(nanos, calls);
    Arrays.sort(timed);
    return new Latency(percentile(timed, 0.50) / 1e3, percentile(timed, 0.99) / 1e3, calls);
  }

  /** Completed calls per second with {@code window} calls in flight. */
  double pipelined(Stack stack, byte[] payload) throws Exception {
    return runWindow(stack, payload, settings.pipelineMeasure());
  }

  private double runWindow(Stack stack, byte[] payload, Duration duration) throws Exception {
    int window = settings.window();
    Semaphore inFlight = new Semaphore(window);
    LongAdder completed = new LongAdder();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    long deadline = start + duration.toNanos();
    while (System.nanoTime() - deadline < 0 && failure.get() == null) {
      inFlight.acquire();
      stack
          .callAsync(payload)
          .whenComplete(
              (echoed, error) -> {
                try {
                  if (error != null) {
                    failure.compareAndSet(null, error);
                  } else {
                    check(payload, echoed);
                    completed.increment();
                  }
                } catch (RuntimeException wrong) {
                  failure.compareAndSet(null, wrong);
                } finally {
                  inFlight.release();
                }
              });
    }
    if (!inFlight.tryAcquire(window, DRAIN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      throw new TimeoutException(
          (window - inFlight.availablePermits())
              + " pipelined calls still unanswered after " + DRAIN_TIMEOUT_SECONDS + " s");
    }
    long elapsed = System.nanoTime() - start;
    if (failure.get() != null) {
      throw new IllegalStateException("pipelined call failed: " + failure.get(), failure.get());
    }
    return completed.sum() * 1e9 / elapsed;
  }

  private static void check(byte[] payload, byte[] echoed) {
    if (echoed == null
        || echoed.length != payload.length
        || (payload.length > 0 && echoed[echoed.length - 1] != payload[payload.length - 1])) {
      throw new IllegalStateException(
          "wrong echo: sent " + payload.length + " bytes, got "
              + (echoed == null ? "null" : echoed.length + " bytes"));
    }
  }

  /** The value at quantile {@code q} of sorted {@code values} (nearest rank). */
  private static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(q * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
