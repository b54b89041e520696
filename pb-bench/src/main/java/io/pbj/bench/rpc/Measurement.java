package io.pbj.bench.rpc;

import java.util.Locale;
import java.util.Optional;

/**
 * One round's numbers for one stack and payload. Also the line a benchmark JVM prints for the
 * JVM that started it ({@link #toLine()}, {@link #parse(String)}).
 *
 * @param kind the stack
 * @param payloadBytes the payload size
 * @param latency sequential round trips
 * @param callsPerSecond pipelined throughput
 */
record Measurement(
    StackKind kind, int payloadBytes, Harness.Latency latency, double callsPerSecond) {
  private static final String TAG = "RESULT";

  /** One line, words separated by single spaces. */
  String toLine() {
    return String.format(
        Locale.ROOT,
        "%s %s %d %.3f %.3f %d %.1f",
        TAG,
        kind.id(),
        payloadBytes,
        latency.p50Micros(),
        latency.p99Micros(),
        latency.calls(),
        callsPerSecond);
  }

  /** The measurement {@code line} holds, or empty if it is not a {@link #toLine()} line. */
  static Optional<Measurement> parse(String line) {
    String[] words = line.split(" ");
    if (words.length != 7 || !words[0].equals(TAG)) {
      return Optional.empty();
    }
    Harness.Latency latency =
        new Harness.Latency(
            Double.parseDouble(words[3]), Double.parseDouble(words[4]), Integer.parseInt(words[5]));
    return Optional.of(
        new Measurement(
            StackKind.byId(words[1]),
            Integer.parseInt(words[2]),
            latency,
            Double.parseDouble(words[6])));
  }
}
