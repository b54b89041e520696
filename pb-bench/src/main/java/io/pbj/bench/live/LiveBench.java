package io.pbj.bench.live;

import io.pbj.PbConnection;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The live-world benchmark (issue 10): N published objects (default 10,000 of 1 KiB), M clients
 * attached to all of them (default 100, each its own {@code PbClient} on loopback TCP, in this
 * JVM), and a server thread making R changes per second (default 1,000) for S seconds (default
 * 10). A change overwrites a few bytes (default 12) at a random offset of a random object; 1% of
 * the changes publish a new object or unpublish one instead, alternately. The same run measures
 * two modes one after the other on the same attached clients, with the same sequence of changes
 * (one seed): <b>delta</b> ({@code republishDelta("patch", offset, bytes)}, applied by {@link
 * LivePublished#patch}, which hands the patched bytes to the store) and <b>whole</b> ({@code
 * republish()}: the whole 1 KiB state to every client).
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar live            # issue 10's sizes, about a minute
 * java -jar pb-bench/target/pbj-bench.jar live --quick    # a smoke run of a few seconds
 * java -jar pb-bench/target/pbj-bench.jar live --clients 10 --rate 5000 --churn 0
 * }</pre>
 *
 * <p>Per mode it reports: bytes on the wire per change per client (the bytes the server's
 * connections wrote, framing included, from the first change until every client holds the
 * server's objects at the server's versions, over changes and clients; announcements and the
 * states of newly published objects included); CPU per change, of the whole process and split
 * into the server's threads and the clients' threads by thread name (see {@link CpuClock}:
 * clients run in this JVM, so only the split says what the server spent); and the delay from a
 * change (just before its push) to the moment the last client applied it, p50, p99 and max. A
 * change a client never applied by itself (pb-core coalesced it into a newer whole state under
 * backpressure) has no delay and is counted. After each mode every client's objects and store
 * entries are compared with the server's.
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class LiveBench {
  static final String CHANGER_THREAD = "live-changer";
  private static final Duration QUIET_TIMEOUT = Duration.ofSeconds(60);

  private LiveBench() {}

  /** The two ways a change is pushed. */
  enum Mode {
    DELTA("delta (republishDelta)", true),
    WHOLE("whole state (republish)", false);

    final String label;
    final boolean delta;

    Mode(String label, boolean delta) {
      this.label = label;
      this.delta = delta;
    }
  }

  /**
   * One mode's results.
   *
   * @param patches changes that overwrote bytes
   * @param published objects published
   * @param unpublished objects unpublished
   * @param changeNanos from the first change to the last one made
   * @param quietNanos from the first change to every client holding the server's objects
   * @param quiet whether every client came to hold the server's objects in time
   * @param bytesSent bytes the server's connections wrote in that time
   * @param messagesSent messages the server's connections wrote in that time
   * @param cpu CPU spent in that time
   * @param delays delays of the patches applied by every client, nanoseconds, sorted
   * @param incomplete patches some client never applied by themselves
   * @param check the comparison with the server after the mode
   */
  record Row(
      Mode mode,
      int clients,
      int patches,
      int published,
      int unpublished,
      long changeNanos,
      long quietNanos,
      boolean quiet,
      long bytesSent,
      long messagesSent,
      CpuClock.Split cpu,
      long[] delays,
      int incomplete,
      LiveWorld.Check check) {

    int changes() {
      return patches + published + unpublished;
    }

    double changesPerSecond() {
      return changes() / (changeNanos / 1e9);
    }

    double bytesPerChangePerClient() {
      return (double) bytesSent / changes() / clients;
    }

    double messagesPerChangePerClient() {
      return (double) messagesSent / changes() / clients;
    }

    double microsPerChange(long nanos) {
      return nanos / 1e3 / changes();
    }

    double percentileMillis(double p) {
      return Deliveries.percentile(delays, p) / 1e6;
    }
  }

  /** Everything one run measured. */
  record Result(Options options, double setupSeconds, double seconds, double loadBefore,
      double loadAfter, boolean perThreadCpu, List<Row> rows) {}

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("live: " + e.getMessage());
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

  /** Runs both modes; progress lines go to {@code progress}. */
  static Result run(Options o, PrintStream progress) throws Exception {
    double loadBefore = loadAverage();
    long started = System.nanoTime();
    progress.printf(Locale.ROOT, "live: publishing %,d objects of %,d B, attaching %d clients%n",
        o.objects(), o.stateBytes(), o.clients());
    List<Row> rows = new ArrayList<>();
    double setup;
    boolean perThread;
    try (LiveWorld world = new LiveWorld(o.objects(), o.clients(), o.stateBytes())) {
      setup = (System.nanoTime() - started) / 1e9;
      progress.printf(Locale.ROOT, "live: set up in %.1f s%n", setup);
      perThread = new CpuClock().perThread();
      for (Mode mode : Mode.values()) {
        Row row = measure(world, o, mode);
        rows.add(row);
        progress.printf(Locale.ROOT,
            "live: %-24s %,d changes at %,.0f/s, %,.1f B/change/client, server CPU %,.1f us/change,"
                + " delay p99 %.1f ms, %d incomplete, %s%n",
            mode.label, row.changes(), row.changesPerSecond(), row.bytesPerChangePerClient(),
            row.microsPerChange(row.cpu().server()), row.percentileMillis(99), row.incomplete(),
            row.quiet() ? "quiet" : "NOT QUIET after " + QUIET_TIMEOUT.toSeconds() + " s");
      }
    }
    return new Result(o, setup, (System.nanoTime() - started) / 1e9, loadBefore, loadAverage(),
        perThread, rows);
  }

  private static Row measure(LiveWorld world, Options o, Mode mode) throws Exception {
    world.settle();
    Deliveries d = new Deliveries(world.clientCount(), o.changes());
    world.track(d);
    System.gc();
    PbConnection.Stats before = world.serverStats();
    CpuClock cpu = new CpuClock();
    int[] counts = new int[3];
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long t0 = System.nanoTime();
    cpu.start();
    Thread changer = new Thread(() -> {
      try {
        change(world, o, mode, d, counts);
      } catch (Throwable e) {
        failure.set(e);
      }
    }, CHANGER_THREAD);
    changer.start();
    changer.join();
    long changed = System.nanoTime();
    if (failure.get() != null) {
      throw new IllegalStateException("the changing thread failed", failure.get());
    }
    boolean quiet = world.awaitQuiet(d, QUIET_TIMEOUT);
    long quietAt = System.nanoTime();
    CpuClock.Split split = cpu.stop();
    PbConnection.Stats after = world.serverStats();
    LiveWorld.Check check = world.check();
    return new Row(mode, world.clientCount(), counts[0], counts[1], counts[2], changed - t0,
        quietAt - t0, quiet, after.bytesSent() - before.bytesSent(),
        after.messagesSent() - before.messagesSent(), split, d.sortedDelays(), d.incomplete(),
        check);
  }

  /**
   * Makes the mode's changes, paced: change k at {@code k / rate} seconds after the first (late
   * ones are made at once, so a server that cannot keep up shows as a lower rate reached).
   * counts: patches, published, unpublished.
   */
  private static void change(LiveWorld world, Options o, Mode mode, Deliveries d, int[] counts) {
    SplittableRandom changes = new SplittableRandom(7);
    int n = o.changes();
    // Churn every 'churnEvery'-th change, alternately a publish and an unpublish.
    int churnEvery = o.churnPercent() == 0 ? 0 : (int) Math.max(1, Math.round(100 / o.churnPercent()));
    double interval = 1e9 / o.rate();
    long start = System.nanoTime();
    boolean publishNext = true;
    for (int k = 0; k < n; k++) {
      long due = start + (long) (k * interval);
      long wait;
      while ((wait = due - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      if (churnEvery > 0 && k % churnEvery == churnEvery / 2) {
        if (publishNext) {
          world.publishNew();
          counts[1]++;
        } else {
          world.unpublishOne(changes);
          counts[2]++;
        }
        publishNext = !publishNext;
      } else {
        world.patch(changes, o.patchBytes(), mode.delta, d);
        counts[0]++;
      }
    }
  }

  /** Prints the markdown tables for docs/BENCHMARKS.md. */
  static void print(PrintStream out, Result r, String[] args) {
    Options o = r.options();
    out.println();
    out.printf(Locale.ROOT,
        "Command: `java -jar pb-bench/target/pbj-bench.jar live%s`%n%n", args.length == 0 ? ""
            : " " + String.join(" ", args));
    out.printf(Locale.ROOT,
        "Machine: %d cores, %s %s %s, Java %s (%s), max heap %d MiB; 1-minute load average %.1f"
            + " before the run, %.1f after; the run took %.0f s (%.0f s to publish and attach).%n%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
        System.getProperty("os.version"), System.getProperty("os.arch"),
        System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory() >> 20, r.loadBefore(), r.loadAfter(), r.seconds(),
        r.setupSeconds());
    out.printf(Locale.ROOT,
        "%,d objects of %,d B, %d clients attached to all of them (each its own PbClient, loopback"
            + " TCP, same JVM), %,d changes/s asked for %d s per mode; a change overwrites %d B at"
            + " a random offset; %s%% of the changes publish or unpublish an object instead.%n%n",
        o.objects(), o.stateBytes(), o.clients(), o.rate(), o.seconds(), o.patchBytes(),
        percent(o.churnPercent()));
    out.println("| mode | changes made | changes/s reached | bytes / change / client"
        + " | messages / change / client | server threads CPU µs / change"
        + " | whole process CPU µs / change | delay to last client p50 ms | p99 ms | max ms |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : r.rows()) {
      out.printf(Locale.ROOT, "| %s | %,d | %,.0f | %,.1f | %.2f | %,.1f | %,.1f | %.2f | %.2f | %.2f |%n",
          row.mode().label, row.changes(), row.changesPerSecond(), row.bytesPerChangePerClient(),
          row.messagesPerChangePerClient(), row.microsPerChange(row.cpu().server()),
          row.microsPerChange(row.cpu().process()), row.percentileMillis(50),
          row.percentileMillis(99), row.percentileMillis(100));
    }
    out.println();
    out.println("| mode | patches / published / unpublished | CPU µs / change: server threads"
        + " | client threads | rest (GC, JIT, other) | all clients quiet after s"
        + " | patches not applied singly by every client | mismatches: states / store entries |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Row row : r.rows()) {
      out.printf(Locale.ROOT, "| %s | %,d / %d / %d | %,.1f | %,.1f | %,.1f | %s | %,d | %d / %d |%n",
          row.mode().label, row.patches(), row.published(), row.unpublished(),
          row.microsPerChange(row.cpu().server()), row.microsPerChange(row.cpu().clients()),
          row.microsPerChange(row.cpu().rest()),
          row.quiet() ? String.format(Locale.ROOT, "%.1f", row.quietNanos() / 1e9)
              : "not quiet after " + QUIET_TIMEOUT.toSeconds() + " s",
          row.incomplete(), row.check().stateMismatches(), row.check().storeMismatches());
    }
    if (!r.perThreadCpu()) {
      out.println();
      out.println("This JVM does not measure CPU time per thread: the server and client columns"
          + " are 0 and everything is in 'rest'.");
    }
  }

  private static String percent(double p) {
    return p == Math.rint(p) ? String.valueOf((long) p) : String.valueOf(p);
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
