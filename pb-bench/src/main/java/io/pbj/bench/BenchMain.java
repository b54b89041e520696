package io.pbj.bench;

import io.pbj.bench.cluster.ClusterBench;
import io.pbj.bench.fanout.FanoutBench;
import io.pbj.bench.live.LiveBench;
import io.pbj.bench.publish.PublishBench;
import io.pbj.bench.rpc.RpcBench;
import io.pbj.bench.scale.ScaleBench;
import io.pbj.bench.store.StoreBench;
import java.io.PrintStream;
import java.util.Arrays;

/**
 * Entry point of {@code pbj-bench.jar}: picks a benchmark by name and hands it the remaining
 * arguments.
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar rpc --quick
 * java -jar pb-bench/target/pbj-bench.jar store
 * java -jar pb-bench/target/pbj-bench.jar fanout --quick
 * java -jar pb-bench/target/pbj-bench.jar publish
 * java -jar pb-bench/target/pbj-bench.jar live --quick
 * java -jar pb-bench/target/pbj-bench.jar scale --quick
 * java -jar pb-bench/target/pbj-bench.jar cluster --quick
 * }</pre>
 *
 * <p>Thread-safety: a {@code main} method only; runs on the caller's thread.
 */
public final class BenchMain {
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
      case "store" -> StoreBench.main(rest);
      case "fanout" -> FanoutBench.main(rest);
      case "publish" -> PublishBench.main(rest);
      case "live" -> LiveBench.main(rest);
      case "scale" -> ScaleBench.main(rest);
      case "cluster" -> ClusterBench.main(rest);
      case "help", "-h", "--help" -> usage(System.out);
      case "--version", "-V" -> System.out.println(version());
      default -> {
        System.err.println("unknown benchmark: " + args[0]);
        usage(System.err);
        System.exit(2);
      }
    }
  }

  /** This jar's version, the Netty it runs on and the JVM: what a benchmark report needs. */
  static String version() {
    java.util.Properties p = new java.util.Properties();
    try (java.io.InputStream in = BenchMain.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (java.io.IOException e) {
      // reported as unknown below
    }
    io.netty.util.Version netty = io.netty.util.Version.identify().get("netty-transport");
    return "pbj-bench " + p.getProperty("version", "unknown") + "\nNetty "
        + (netty == null ? "unknown" : netty.artifactVersion()) + ", Java " + Runtime.version()
        + " (" + System.getProperty("java.vm.name") + ")";
  }

  private static void usage(PrintStream out) {
    out.println("usage: java -jar pbj-bench.jar <benchmark> [options]");
    out.println("benchmarks:");
    out.println("  rpc     round-trip latency and pipelined throughput: PBJ, raw Netty, gRPC, RMI");
    out.println("  store   cache store benchmark");
    out.println("  fanout  one Cacheable, 10, 100 and 1,000 observers, against a raw Netty broadcast");
    out.println("  publish reactivation of published objects at 0/1/10% stale: PBJ inventory and");
    out.println("          versions modes, plain Cacheable, per-object fetch (publish.py), on");
    out.println("          loopback and a simulated 100 Mbit/s, 20 ms round-trip link");
    out.println("  live    a live world: 10,000 objects, 100 clients attached, 1,000 changes/s as");
    out.println("          deltas and as whole states, with 1% publish/unpublish");
    out.println("  scale   500 clients attaching warm to 1,000 objects of 256 B, then 100 ticks of");
    out.println("          updates, directly and through a tree of 4 relays");
    out.println("  cluster 3 origin members on Hazelcast, 300 clients across them, a live driver;");
    out.println("          a member killed: re-attach time, bytes vs a cold attach, store hits;");
    out.println("          changes/s applied on every member against one plain origin");
    out.println("run '<benchmark> --help' for its options");
  }
}
