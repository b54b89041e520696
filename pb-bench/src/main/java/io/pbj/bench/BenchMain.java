package io.pbj.bench;

import io.pbj.bench.rpc.RpcBench;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;

/**
 * Entry point of {@code pbj-bench.jar}: picks a benchmark by name and hands it the remaining
 * arguments.
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar rpc --quick
 * java -jar pb-bench/target/pbj-bench.jar store
 * }</pre>
 *
 * <p>Thread-safety: a {@code main} method only; runs on the caller's thread.
 */
public final class BenchMain {
  /** Written by another module's owner; looked up by name so this class compiles without it. */
  private static final String STORE_BENCH = "io.pbj.bench.store.StoreBench";

  private BenchMain() {}

  /**
   * Runs the benchmark named by {@code args[0]} with {@code args[1..]}. An unknown or missing
   * name prints the usage and exits with status 2.
   */
  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      usage(System.err);
      System.exit(2);
      return;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "rpc" -> RpcBench.main(rest);
      case "store" -> runByName("store", STORE_BENCH, rest);
      case "help", "-h", "--help" -> usage(System.out);
      default -> {
        System.err.println("unknown benchmark: " + args[0]);
        usage(System.err);
        System.exit(2);
      }
    }
  }

  /** Calls {@code className.main(args)}, failing with status 2 if the class is not in the jar. */
  private static void runByName(String name, String className, String[] args) throws Exception {
    Class<?> benchmark;
    try {
      benchmark = Class.forName(className);
    } catch (ClassNotFoundException e) {
      System.err.println("benchmark '" + name + "' is not in this jar (no class " + className + ")");
      System.exit(2);
      return;
    }
    try {
      benchmark.getMethod("main", String[].class).invoke(null, (Object) args);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof Exception cause) {
        throw cause;
      }
      if (e.getCause() instanceof Error error) {
        throw error;
      }
      throw e;
    }
  }

  private static void usage(PrintStream out) {
    out.println("usage: java -jar pbj-bench.jar <benchmark> [options]");
    out.println("benchmarks:");
    out.println("  rpc     round-trip latency and pipelined throughput: PBJ, raw Netty, gRPC, RMI");
    out.println("  store   cache store benchmark");
    out.println("run '<benchmark> --help' for its options");
  }
}
