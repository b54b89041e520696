package io.pbj.bench.scale;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The many-clients benchmark (issue 11, target 7): N clients (default 500) attach <em>warm</em>
 * to one server publishing M objects (default 1,000 of 256 B), their starts spread evenly over a
 * few seconds (default 5); then T ticks (default 100) each give K objects (default 20) a new
 * whole state, one tick after the other (the next tick starts when the last client applied the
 * last update of the one before). The same again through a row of R relays (default 4: origin
 * → relays → the clients spread round robin over them).
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar scale            # issue 11's sizes, a few minutes
 * java -jar pb-bench/target/pbj-bench.jar scale --quick    # a smoke run of a few seconds
 * java -jar pb-bench/target/pbj-bench.jar scale --clients 200 --per-tick 1000 --relays 0
 * }</pre>
 *
 * <p>Warm: before each run one client attaches to the origin with an empty in-memory store and
 * the snapshots it stored are copied into every client's own in-memory store (the real store
 * with its write-behind queue, no disk), so each client's attach finds all objects at the
 * origin's versions and activates them from its store. Everything runs in this JVM: the origin,
 * the relays and the clients, each client its own {@code PbClient} on loopback TCP with its own
 * event-loop thread (PBJ's public API cannot share one between clients) and an executor shared
 * by all clients. CPU is told apart by thread group ({@link GroupCpu}); heap per client is the
 * growth of the heap after a full GC from before the first attach to every client attached,
 * over the clients, and holds both ends: the server's per-connection state and the client's
 * own (its connection, its {@code PbClient}, its objects).
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class ScaleBench {
  private ScaleBench() {}

  /**
   * One run (direct, or through relays).
   *
   * @param relays relays between the origin and the clients (0: direct)
   * @param snapshots snapshots each client's store held before it attached
   */
  record Row(int relays, int clients, int objects, int snapshots, ScaleWorld.AttachPhase attach,
      ScaleWorld.TickPhase ticks, ScaleWorld.Check check) {

    String label() {
      return relays == 0 ? "direct" : "through " + relays + " relays";
    }

    double attachesPerSecond() {
      return clients / (attach.wallNanos() / 1e9);
    }

    double attachMillis(double p) {
      return percentile(attach.attachNanos(), p) / 1e6;
    }

    /** Origin threads' CPU per attach, milliseconds. */
    double originCpuMillisPerAttach() {
      return attach.cpu().byGroup()[0] / 1e6 / clients;
    }

    double processCpuMillisPerAttach() {
      return attach.cpu().process() / 1e6 / clients;
    }

    double heapKibPerClient() {
      return (attach.heapAfter() - attach.heapBefore()) / 1024.0 / clients;
    }

    double originBytesPerClientAttach() {
      return (double) attach.originBytes() / clients;
    }

    double tickMillis(double p) {
      return percentile(ticks.tickNanos(), p) / 1e6;
    }

    double originCpuMillisPerTick() {
      return ticks.cpu().byGroup()[0] / 1e6 / ticks.tickNanos().length;
    }

    double processCpuMillisPerTick() {
      return ticks.cpu().process() / 1e6 / ticks.tickNanos().length;
    }

    double originBytesPerClientPerTick() {
      return (double) ticks.originBytes() / clients / ticks.tickNanos().length;
    }

    /** Updates applied per second over all clients during the ticks. */
    double deliveriesPerSecond(int perTick) {
      return (double) perTick * clients * ticks.tickNanos().length / (ticks.wallNanos() / 1e9);
    }
  }

  /** Everything one run measured. */
  record Result(Options options, double seconds, double loadBefore, double loadAfter,
      boolean perThreadCpu, List<Row> rows) {}

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("scale: " + e.getMessage());
      Options.usage(System.err);
      System.exit(2);
      return;
    }
    if (options.help()) {
      Options.usage(System.out);
      return;
    }
    print(System.out, run(options, System.err), args);
  }

  /** Runs the direct case, then the relayed one; progress lines go to {@code progress}. */
  static Result run(Options o, PrintStream progress) throws Exception {
    double loadBefore = loadAverage();
    long started = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    boolean perThread = new GroupCpu().perThread();
    List<Integer> topologies = o.relays() == 0 ? List.of(0) : List.of(0, o.relays());
    for (int relays : topologies) {
      rows.add(measure(o, relays, progress));
    }
    return new Result(o, (System.nanoTime() - started) / 1e9, loadBefore, loadAverage(),
        perThread, rows);
  }

  private static Row measure(Options o, int relays, PrintStream progress) throws Exception {
    String label = relays == 0 ? "direct" : relays + " relays";
    progress.printf(Locale.ROOT, "scale: %s: publishing %,d objects of %,d B%s, preparing %d"
        + " warm stores%n", label, o.objects(), o.stateBytes(),
        relays == 0 ? "" : ", attaching the relays", o.clients());
    try (ScaleWorld world = new ScaleWorld(o, relays, progress)) {
      int snapshots = world.prepareStores();
      progress.printf(Locale.ROOT, "scale: %s: attaching %d clients over %.1f s%n", label,
          o.clients(), o.staggerMillis() / 1e3);
      ScaleWorld.AttachPhase attach = world.attachAll();
      progress.printf(Locale.ROOT, "scale: %s: attached in %.1f s, p99 %.1f ms; %d ticks of %d%n",
          label, attach.wallNanos() / 1e9, percentile(attach.attachNanos(), 99) / 1e6,
          o.ticks(), o.perTick());
      ScaleWorld.TickPhase ticks = world.tickAll();
      ScaleWorld.Check check = world.check();
      Row row = new Row(relays, o.clients(), o.objects(), snapshots, attach, ticks, check);
      progress.printf(Locale.ROOT, "scale: %s: ticks took %.1f s (p99 %.1f ms); mismatches"
          + " %d states / %d versions; %d client connections lost%n", label,
          ticks.wallNanos() / 1e9, row.tickMillis(99), check.stateMismatches(),
          check.versionMismatches(), check.clientsLost());
      return row;
    }
  }

  /** Prints the markdown tables for docs/BENCHMARKS.md. */
  static void print(PrintStream out, Result r, String[] args) {
    Options o = r.options();
    out.println();
    out.printf(Locale.ROOT,
        "Command: `java -jar pb-bench/target/pbj-bench.jar scale%s`%n%n", args.length == 0 ? ""
            : " " + String.join(" ", args));
    out.printf(Locale.ROOT,
        "Machine: %d cores, %s %s %s, Java %s (%s), max heap %d MiB; 1-minute load average %.1f"
            + " before the run, %.1f after; the run took %.0f s.%n%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
        System.getProperty("os.version"), System.getProperty("os.arch"),
        System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory() >> 20, r.loadBefore(), r.loadAfter(), r.seconds());
    out.printf(Locale.ROOT,
        "%,d clients attach warm (every object in their store at the server's version) to %,d"
            + " objects of %,d B, starts spread over %.1f s; then %d ticks, each a new whole state"
            + " for %d objects, the next tick when every client applied the last. All in one"
            + " JVM on loopback TCP; each client its own PbClient and event-loop thread.%n%n",
        o.clients(), o.objects(), o.stateBytes(), o.staggerMillis() / 1e3, o.ticks(),
        o.perTick());
    out.println("| run | attaches/s | attach p50 ms | p99 ms | max ms"
        + " | origin CPU ms / attach | process CPU ms / attach | heap KiB / client"
        + " | origin bytes / client (attach) | objects from store |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : r.rows()) {
      out.printf(Locale.ROOT, "| %s | %,.0f | %.1f | %.1f | %.1f | %.3f | %.3f | %,.0f | %,.0f"
              + " | %,d of %,d |%n",
          row.label(), row.attachesPerSecond(), row.attachMillis(50), row.attachMillis(99),
          row.attachMillis(100), row.originCpuMillisPerAttach(), row.processCpuMillisPerAttach(),
          row.heapKibPerClient(), row.originBytesPerClientAttach(), row.attach().storeHits(),
          (long) row.clients() * row.objects());
    }
    out.println();
    out.println("| run | tick to every client p50 ms | p99 ms | max ms | updates applied / s"
        + " | origin CPU ms / tick | process CPU ms / tick | origin bytes / client / tick"
        + " | ticks incomplete | mismatches: states / versions | connections lost |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : r.rows()) {
      out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %,.0f | %.2f | %.2f | %,.0f | %d"
              + " | %d / %d | %d |%n",
          row.label(), row.tickMillis(50), row.tickMillis(99), row.tickMillis(100),
          row.deliveriesPerSecond(o.perTick()), row.originCpuMillisPerTick(),
          row.processCpuMillisPerTick(), row.originBytesPerClientPerTick(),
          row.ticks().incomplete(), row.check().stateMismatches(),
          row.check().versionMismatches(), row.check().clientsLost());
    }
    out.println();
    out.println("| run | CPU s, attach phase: origin / relays / clients / rest"
        + " | CPU s, ticks: origin / relays / clients / rest"
        + " | relays' bytes / client: attach / tick |");
    out.println("| --- | ---: | ---: | ---: |");
    for (Row row : r.rows()) {
      out.printf(Locale.ROOT, "| %s | %s | %s | %,.0f / %,.0f |%n", row.label(),
          split(row.attach().cpu()), split(row.ticks().cpu()),
          (double) row.attach().relayBytes() / row.clients(),
          (double) row.ticks().relayBytes() / row.clients() / row.ticks().tickNanos().length);
    }
    if (r.rows().size() == 2) {
      Row direct = r.rows().get(0);
      Row relayed = r.rows().get(1);
      out.println();
      out.printf(Locale.ROOT, "Origin through %d relays against direct: CPU per attach %.3f×,"
              + " bytes per client (attach) %.3f×; CPU per tick %.3f×, bytes per client per tick"
              + " %.3f×.%n", relayed.relays(),
          ratio(relayed.originCpuMillisPerAttach(), direct.originCpuMillisPerAttach()),
          ratio(relayed.originBytesPerClientAttach(), direct.originBytesPerClientAttach()),
          ratio(relayed.originCpuMillisPerTick(), direct.originCpuMillisPerTick()),
          ratio(relayed.originBytesPerClientPerTick(), direct.originBytesPerClientPerTick()));
    }
    if (!r.perThreadCpu()) {
      out.println();
      out.println("This JVM does not measure CPU time per thread: the origin, relay and client"
          + " columns are 0 and everything is in 'rest'.");
    }
  }

  private static String split(GroupCpu.Split s) {
    long[] g = s.byGroup();
    return String.format(Locale.ROOT, "%.2f / %.2f / %.2f / %.2f", g[0] / 1e9, g[1] / 1e9,
        g[2] / 1e9, s.rest() / 1e9);
  }

  private static double ratio(double a, double b) {
    return b == 0 ? Double.NaN : a / b;
  }

  /** The {@code p}-th percentile (0 to 100) of {@code sorted}, nearest rank; 0 if empty. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
