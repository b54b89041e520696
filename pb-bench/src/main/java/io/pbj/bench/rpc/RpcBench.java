package io.pbj.bench.rpc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The RPC benchmark: an echo call over loopback TCP, for PBJ, raw Netty (the floor), gRPC-java
 * and JDK RMI. For each stack and payload it measures sequential round trips (p50, p99) and
 * pipelined calls per second with a window of calls in flight, then prints a markdown table and
 * PBJ's p50 relative to each peer's.
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar rpc                   # the full run, under 3 minutes
 * java -jar pb-bench/target/pbj-bench.jar rpc --quick --stacks netty,pbj
 * }</pre>
 *
 * <p>Each stack runs in a JVM of its own (started with this JVM's options), so the JIT profile
 * one stack leaves behind does not slow the next; {@code --in-process} runs them all here, which
 * is handier under a profiler. The stacks take turns for several rounds and the table shows each
 * number's median over the rounds, so a burst of load from something else on the machine does
 * not land on one stack alone.
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class RpcBench {

  private RpcBench() {}

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("rpc: " + e.getMessage());
      Options.usage(System.err);
      System.exit(2);
      return;
    }
    if (options.help()) {
      Options.usage(System.out);
    } else if (options.serve() != null) {
      ForkedRunner.serve(options.serve(), options);
    } else {
      run(options);
    }
  }

  private static void run(Options options) {
    double loadBefore = Report.loadAverage();
    Map<StackKind, StackRunner> runners = new LinkedHashMap<>();
    Map<StackKind, String> failures = new LinkedHashMap<>();
    List<Measurement> measurements = new ArrayList<>();
    try {
      for (StackKind kind : options.stacks()) {
        System.err.println("rpc: starting " + kind.id());
        try {
          runners.put(
              kind,
              options.inProcess()
                  ? new InProcessRunner(kind, options.settings())
                  : new ForkedRunner(kind, options));
        } catch (Exception e) {
          fail(kind, e, failures);
        }
      }
      int rounds = options.settings().rounds();
      for (int round = 1; round <= rounds; round++) {
        for (StackKind kind : List.copyOf(runners.keySet())) {
          for (int size : options.payloads()) {
            try {
              Measurement measurement = runners.get(kind).measure(size, round == 1);
              System.err.println("rpc: round " + round + "/" + rounds + " " + measurement.toLine());
              measurements.add(measurement);
            } catch (Exception e) {
              fail(kind, e, failures);
              runners.remove(kind).close();
              break;
            }
          }
        }
      }
    } finally {
      runners.values().forEach(StackRunner::close);
    }
    Report.print(System.out, options, measurements, failures, loadBefore);
  }

  private static void fail(StackKind kind, Exception e, Map<StackKind, String> failures) {
    System.err.println("rpc: " + kind.id() + " failed: " + e);
    failures.put(kind, ForkedRunner.describe(e));
  }
}
