package io.pbj.bench.rpc;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;

/**
 * Prints the results as markdown: the machine and settings, one row per stack and payload (the
 * median of the rounds, and the spread of p50 over them), and PBJ's p50 against each peer with
 * the targets of issue 2.
 *
 * <p>Thread-safety: stateless.
 */
final class Report {
  /** PBJ's p50 may be at most this multiple of raw Netty's. */
  private static final double NETTY_TARGET = 1.3;

  /** PBJ's p50 may be at most this multiple of gRPC's. */
  private static final double GRPC_TARGET = 0.5;

  /** PBJ's p50 must be below this multiple of RMI's. */
  private static final double RMI_TARGET = 1.0;

  private Report() {}

  /** The system load average over the last minute, or -1 where the OS does not tell. */
  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  static void print(
      PrintStream out,
      Options options,
      List<Measurement> measurements,
      Map<StackKind, String> failures,
      double loadBefore) {
    Harness.Settings settings = options.settings();
    out.printf(
        Locale.ROOT,
        "Machine: %d cores, %s %s %s, Java %s (%s), %s transport for PBJ and raw Netty;"
            + " 1-minute load average %.1f before the run, %.1f after.%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("os.arch"),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        NettyStack.EPOLL ? "epoll" : "NIO",
        loadBefore,
        loadAverage());
    out.printf(
        Locale.ROOT,
        "%s; %d round%s, the stacks taking turns. Per round and payload: %,d sequential calls"
            + " timed, then %.1f s pipelined with %d calls in flight. Warm-up before round 1:"
            + " %,d calls and %.1f s pipelined (later rounds: %,d calls, %.1f s). Each number is"
            + " the median over the rounds.%n%n",
        options.inProcess() ? "All stacks in one JVM" : "Each stack in a JVM of its own",
        settings.rounds(),
        settings.rounds() == 1 ? "" : "s",
        settings.measuredCalls(),
        seconds(settings.pipelineMeasure().toMillis()),
        settings.window(),
        settings.warmupCalls(),
        seconds(settings.pipelineWarmup().toMillis()),
        settings.rewarmCalls(),
        seconds(settings.pipelineRewarm().toMillis()));
    out.printf(
        "| stack | payload | p50 µs | p99 µs | calls/s pipelined %d | p50 range over rounds µs |%n",
        settings.window());
    out.println("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (StackKind kind : options.stacks()) {
      for (int size : options.payloads()) {
        List<Measurement> rounds = rounds(measurements, kind, size);
        if (rounds.isEmpty()) {
          out.printf(
              "| %s | %s | failed: %s | | | |%n",
              kind.displayName(), size(size), failures.getOrDefault(kind, "no result"));
          continue;
        }
        out.printf(
            Locale.ROOT,
            "| %s | %s | %.1f | %.1f | %,.0f | %.1f – %.1f |%n",
            kind.displayName(),
            size(size),
            median(rounds, m -> m.latency().p50Micros()),
            median(rounds, m -> m.latency().p99Micros()),
            median(rounds, Measurement::callsPerSecond),
            rounds.stream().mapToDouble(m -> m.latency().p50Micros()).min().orElseThrow(),
            rounds.stream().mapToDouble(m -> m.latency().p50Micros()).max().orElseThrow());
      }
    }
    failures.forEach(
        (kind, reason) -> out.printf("%n%s failed: %s%n", kind.displayName(), reason));
    if (options.stacks().contains(StackKind.PBJ)) {
      printRatios(out, options, measurements);
    }
    printCallTargets(out, options, measurements);
  }

  /**
   * One target of issue 11: {@code stack}'s {@code metric} against {@code base}'s, where higher
   * is better for a throughput and lower for a latency (then the ratio is base over stack, so that
   * it reads "how fast, as a share of the base" either way, except for the latency caps).
   */
  private record CallTarget(
      String what, StackKind stack, StackKind base, boolean pipelined, double bound, boolean cap) {}

  private static final List<CallTarget> CALL_TARGETS =
      List.of(
          new CallTarget("callbacks, pipelined, over PBJ's pipelined (at least)",
              StackKind.PBJ_CALLBACKS, StackKind.PBJ, true, 0.8, false),
          new CallTarget("callbacks, sequential, speed over PBJ's get() (at least)",
              StackKind.PBJ_CALLBACKS, StackKind.PBJ, false, 0.8, false),
          new CallTarget("callback chain, sequential, speed over PBJ's get() (at least)",
              StackKind.PBJ_CHAIN, StackKind.PBJ, false, 0.8, false),
          new CallTarget("direct mode p50 over raw Netty's (at most)",
              StackKind.PBJ_DIRECT, StackKind.NETTY, false, 1.1, true),
          new CallTarget("default p50 over raw Netty's (at most)",
              StackKind.PBJ, StackKind.NETTY, false, 1.3, true),
          new CallTarget("direct mode p50 over JDK RMI's (information)",
              StackKind.PBJ_DIRECT, StackKind.RMI, false, Double.NaN, true),
          new CallTarget("gRPC directExecutor() p50 over gRPC default's (information)",
              StackKind.GRPC_DIRECT, StackKind.GRPC, false, Double.NaN, true),
          new CallTarget("direct mode, pipelined, over PBJ's pipelined (information)",
              StackKind.PBJ_DIRECT, StackKind.PBJ, true, Double.NaN, false));

  private static void printCallTargets(
      PrintStream out, Options options, List<Measurement> measurements) {
    List<CallTarget> shown =
        CALL_TARGETS.stream()
            .filter(
                t -> options.stacks().contains(t.stack()) && options.stacks().contains(t.base()))
            .toList();
    if (shown.isEmpty()) {
      return;
    }
    out.println();
    out.println("Asynchronous calls and direct mode (issue 11); sequential speed is the base's p50"
        + " over the stack's:");
    out.println();
    StringBuilder header = new StringBuilder("| ratio |");
    StringBuilder rule = new StringBuilder("| --- |");
    for (int size : options.payloads()) {
      header.append(' ').append(size(size)).append(" |");
      rule.append(" ---: |");
    }
    out.println(header);
    out.println(rule);
    for (CallTarget target : shown) {
      StringBuilder row = new StringBuilder("| " + target.what() + " |");
      for (int size : options.payloads()) {
        row.append(' ').append(callRatio(measurements, size, target)).append(" |");
      }
      out.println(row);
    }
  }

  private static String callRatio(List<Measurement> measurements, int size, CallTarget target) {
    List<Measurement> stack = rounds(measurements, target.stack(), size);
    List<Measurement> base = rounds(measurements, target.base(), size);
    if (stack.isEmpty() || base.isEmpty()) {
      return "n/a";
    }
    ToDoubleFunction<Measurement> p50 = m -> m.latency().p50Micros();
    double ratio;
    if (target.pipelined()) {
      ratio =
          median(stack, Measurement::callsPerSecond) / median(base, Measurement::callsPerSecond);
    } else if (target.cap()) {
      ratio = median(stack, p50) / median(base, p50);
    } else {
      ratio = median(base, p50) / median(stack, p50);
    }
    if (Double.isNaN(target.bound())) {
      return String.format(Locale.ROOT, "%.2fx", ratio);
    }
    boolean met = target.cap() ? ratio <= target.bound() : ratio >= target.bound();
    return String.format(Locale.ROOT, "%.2fx (%s)", ratio, met ? "met" : "missed");
  }

  private static void printRatios(
      PrintStream out, Options options, List<Measurement> measurements) {
    out.println();
    out.printf(
        Locale.ROOT,
        "PBJ's p50 over each peer's (targets: at most %.1fx raw Netty's, at most %.1fx gRPC's,"
            + " below RMI's):%n%n",
        NETTY_TARGET,
        GRPC_TARGET);
    out.println("| payload | PBJ / raw Netty | PBJ / gRPC | PBJ / RMI |");
    out.println("| ---: | ---: | ---: | ---: |");
    for (int size : options.payloads()) {
      out.printf(
          "| %s | %s | %s | %s |%n",
          size(size),
          ratio(measurements, size, StackKind.NETTY, NETTY_TARGET, false),
          ratio(measurements, size, StackKind.GRPC, GRPC_TARGET, false),
          ratio(measurements, size, StackKind.RMI, RMI_TARGET, true));
    }
  }

  /** PBJ's median p50 over {@code peer}'s, and whether the target is met, or "n/a". */
  private static String ratio(
      List<Measurement> measurements, int size, StackKind peer, double target, boolean strict) {
    Optional<Double> pbj = medianP50(measurements, StackKind.PBJ, size);
    Optional<Double> other = medianP50(measurements, peer, size);
    if (pbj.isEmpty() || other.isEmpty()) {
      return "n/a";
    }
    double ratio = pbj.get() / other.get();
    boolean met = strict ? ratio < target : ratio <= target;
    return String.format(Locale.ROOT, "%.2fx (%s)", ratio, met ? "met" : "missed");
  }

  private static Optional<Double> medianP50(
      List<Measurement> measurements, StackKind kind, int size) {
    List<Measurement> rounds = rounds(measurements, kind, size);
    return rounds.isEmpty()
        ? Optional.empty()
        : Optional.of(median(rounds, m -> m.latency().p50Micros()));
  }

  private static List<Measurement> rounds(
      List<Measurement> measurements, StackKind kind, int size) {
    return measurements.stream()
        .filter(m -> m.kind() == kind && m.payloadBytes() == size)
        .toList();
  }

  /** The median of {@code value} over {@code rounds} (the mean of the middle two if even). */
  private static double median(List<Measurement> rounds, ToDoubleFunction<Measurement> value) {
    double[] values = rounds.stream().mapToDouble(value).sorted().toArray();
    int middle = values.length / 2;
    return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
  }

  private static double seconds(long millis) {
    return millis / 1e3;
  }

  private static String size(int bytes) {
    return bytes % 1024 == 0 ? bytes / 1024 + " KiB" : bytes + " B";
  }
}
