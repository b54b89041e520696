package io.pbj.bench.fanout;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The fan-out benchmark: one {@link Ticker} updated in a loop by one server thread and observed
 * by 10, 100 and 1,000 clients in this JVM, each its own {@code PbClient} over loopback TCP;
 * against the floor, a raw Netty broadcast of frames of the same size to as many client channels.
 * PBJ pushes with {@code RemoteObserver.callRemoteAll} (one encode for all observers) and, as a
 * second stack, with {@code callRemote} on each observer in turn. Prints a markdown table of
 * updates delivered per second (over all observers) and each rate over the floor's.
 *
 * <p>Above {@value #OWN_THREADS_MAX} observers the clients of both stacks share {@code
 * --client-threads} event-loop threads (default {@value #CLIENT_THREADS}; PBJ's clients also
 * share an executor of as many threads), rather than one each: a thousand clients with two
 * threads each would measure the scheduler of a 2-core machine more than either stack.
 *
 * <pre>{@code
 * java -cp pb-bench/target/pbj-bench.jar io.pbj.bench.fanout.FanoutBench           # ~1 minute
 * java -cp pb-bench/target/pbj-bench.jar io.pbj.bench.fanout.FanoutBench --quick   # seconds
 * }</pre>
 *
 * <p>Each update carries a sequence number and a 64-byte payload. The pusher is paced by the
 * slowest observer (see {@link Window}): it never runs more than two blocks of 256 updates ahead
 * of any observer, which keeps every observer's queue under PBJ's default backpressure bound
 * (1024), so every update is delivered as an update and both stacks are measured on the same
 * terms. Observers check that they receive 0, 1, 2, ... and the run reports any missing,
 * out-of-order or coalesced update. A rate is deliveries (updates times observers) over the time
 * from a round's first push to its last delivery; each stack is warmed up first, rounds push for
 * a fixed time, and the table gives the median of the rounds.
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class FanoutBench {
  private static final int PAYLOAD_BYTES = 64;
  private static final int BLOCK = 256;
  private static final long STALL_SECONDS = 30;
  /** Used for the floor only if PBJ's own frame size could not be measured. */
  private static final int FALLBACK_FRAME_BYTES = 100;
  /** Up to this many observers, each client has threads of its own. */
  static final int OWN_THREADS_MAX = 100;
  /** Threads the clients share above {@link #OWN_THREADS_MAX} observers, by default. */
  static final int CLIENT_THREADS = 8;

  private FanoutBench() {}

  /** How long to warm up and measure. */
  private record Settings(double warmupSeconds, double roundSeconds, int rounds) {
    static final Settings FULL = new Settings(4.0, 3.0, 3);
    static final Settings QUICK = new Settings(0.3, 0.3, 1);
  }

  /** One stack at one number of observers. */
  private record Result(
      String stack,
      int observers,
      long updatesPushed,
      double[] ratesPerRound,
      long missing,
      long outOfOrder,
      long coalesced,
      long deliveries,
      String failure) {

    double medianRate() {
      double[] sorted = ratesPerRound.clone();
      Arrays.sort(sorted);
      int middle = sorted.length / 2;
      return sorted.length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
  }

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Settings settings = Settings.FULL;
    List<Integer> observerCounts = List.of(10, 100, 1000);
    boolean sameThread = false;
    int clientThreads = CLIENT_THREADS;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--quick" -> settings = Settings.QUICK;
        case "--same-thread" -> sameThread = true;
        case "--client-threads" -> {
          List<Integer> n = i + 1 == args.length ? null : parseCounts(args[++i]);
          if (n == null || n.size() != 1) {
            usageError("--client-threads takes one positive number, e.g. 8");
            return;
          }
          clientThreads = n.get(0);
        }
        case "--observers" -> {
          if (i + 1 == args.length) {
            usageError("--observers needs a value, e.g. 10,100");
            return;
          }
          observerCounts = parseCounts(args[++i]);
          if (observerCounts == null) {
            usageError("--observers takes positive numbers separated by commas, got " + args[i]);
            return;
          }
        }
        case "-h", "--help" -> {
          usage(System.out);
          return;
        }
        default -> {
          usageError("unknown option " + args[i]);
          return;
        }
      }
    }
    run(settings, observerCounts, sameThread, clientThreads, System.out);
  }

  private static List<Integer> parseCounts(String text) {
    List<Integer> counts = new ArrayList<>();
    for (String part : text.split(",")) {
      try {
        int n = Integer.parseInt(part.trim());
        if (n < 1) {
          return null;
        }
        counts.add(n);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    return counts;
  }

  private static void usageError(String message) {
    System.err.println("fanout: " + message);
    usage(System.err);
    System.exit(2);
  }

  private static void usage(PrintStream out) {
    out.println(
        "usage: FanoutBench [--quick] [--observers 10,100,1000] [--client-threads 8]"
            + " [--same-thread]");
    out.println("  --quick           a smoke run (seconds; the 1,000 row's set-up takes longer)");
    out.println("  --observers       numbers of observers to measure, default 10,100,1000");
    out.println(
        "  --client-threads  threads the clients share above " + OWN_THREADS_MAX
            + " observers, default " + CLIENT_THREADS);
    out.println("  --same-thread  also measure PBJ with same-thread executors (a diagnostic of");
    out.println("                 what the executor hand-offs cost, not a setting to use)");
  }

  private static void run(
      Settings settings,
      List<Integer> observerCounts,
      boolean sameThread,
      int clientThreads,
      PrintStream out) {
    double loadBefore = loadAverage();
    long started = System.nanoTime();
    byte[] payload = new byte[PAYLOAD_BYTES];
    new Random(42).nextBytes(payload);
    int[] frameBytes = {-1};
    List<Result> results = new ArrayList<>();
    for (int n : observerCounts) {
      int shared = n > OWN_THREADS_MAX ? clientThreads : 0;
      results.add(measure(new PbjFanout(false, false, shared), n, settings, payload, frameBytes));
      results.add(measure(new PbjFanout(false, true, shared), n, settings, payload, frameBytes));
      if (sameThread) {
        results.add(measure(new PbjFanout(true, false, shared), n, settings, payload, frameBytes));
      }
      int floorFrame = frameBytes[0] > 0 ? frameBytes[0] : FALLBACK_FRAME_BYTES;
      results.add(measure(new NettyFanout(floorFrame, shared), n, settings, payload, frameBytes));
    }
    report(out, settings, results, frameBytes[0], loadBefore, System.nanoTime() - started);
  }

  /**
   * Warms {@code stack} up with {@code observers}, sizes its rounds from the warm-up rate, and
   * measures them. The first PBJ warm-up also measures PBJ's bytes per update into {@code
   * frameBytes}.
   */
  private static Result measure(
      FanoutStack stack, int observers, Settings settings, byte[] payload, int[] frameBytes) {
    System.err.printf("fanout: %s, %d observers%n", stack.name(), observers);
    Window window = new Window(observers, BLOCK, Thread.currentThread());
    Pusher pusher = new Pusher(stack, window, payload);
    try (stack) {
      stack.start(observers, window);
      long bytesBefore = stack instanceof PbjFanout p ? p.bytesReceivedByFirstObserver() : 0;
      long warmupStart = System.nanoTime();
      pusher.pushFor(seconds(settings.warmupSeconds()));
      long warmupUpdates = pusher.pushed();
      if (stack instanceof PbjFanout p && frameBytes[0] < 0) {
        long bytes = p.bytesReceivedByFirstObserver() - bytesBefore;
        frameBytes[0] = (int) Math.round((double) bytes / warmupUpdates);
      }
      double[] rates = new double[settings.rounds()];
      long deliveries = 0;
      for (int round = 0; round < settings.rounds(); round++) {
        long before = deliveries(stack);
        long pushedBefore = pusher.pushed();
        long start = System.nanoTime();
        pusher.pushFor(seconds(settings.roundSeconds()));
        long elapsed = window.lastCompletionNanos() - start;
        long delivered = deliveries(stack) - before;
        deliveries += delivered;
        rates[round] = delivered / (elapsed / 1e9);
        System.err.printf(
            Locale.ROOT,
            "fanout:   round %d: %,d updates, %,.0f deliveries/s%n",
            round + 1,
            pusher.pushed() - pushedBefore,
            rates[round]);
      }
      List<Receiver> receivers = stack.receivers();
      return new Result(
          stack.name(),
          observers,
          pusher.pushed() - warmupUpdates,
          rates,
          receivers.stream().mapToLong(Receiver::missing).sum(),
          receivers.stream().mapToLong(Receiver::outOfOrder).sum(),
          receivers.stream().mapToLong(Receiver::coalesced).sum(),
          deliveries,
          null);
    } catch (Exception e) {
      System.err.println("fanout: " + stack.name() + " with " + observers + " failed: " + e);
      return new Result(stack.name(), observers, 0, new double[0], 0, 0, 0, 0, e.toString());
    }
  }

  private static long deliveries(FanoutStack stack) {
    return stack.receivers().stream().mapToLong(Receiver::deliveries).sum();
  }

  /** Pushes blocks of consecutive ticks, paced by the window. */
  private static final class Pusher {
    private final FanoutStack stack;
    private final Window window;
    private final byte[] payload;
    private long nextBlock;

    Pusher(FanoutStack stack, Window window, byte[] payload) {
      this.stack = stack;
      this.window = window;
      this.payload = payload;
    }

    /** Waits until at most one earlier block is in flight, then pushes the next block. */
    void pushBlock() throws TimeoutException {
      window.awaitCompleted(nextBlock - 1, STALL_SECONDS);
      long first = nextBlock * BLOCK;
      for (long seq = first; seq < first + BLOCK; seq++) {
        stack.push(seq, payload);
      }
      nextBlock++;
    }

    /**
     * Pushes blocks for at least {@code nanos} (and at least two blocks), then waits until every
     * observer has received every block pushed.
     */
    void pushFor(long nanos) throws TimeoutException {
      long end = System.nanoTime() + nanos;
      long first = nextBlock;
      while (System.nanoTime() < end || nextBlock - first < 2) {
        pushBlock();
      }
      window.awaitCompleted(nextBlock, STALL_SECONDS);
    }

    /** Updates pushed so far. */
    long pushed() {
      return nextBlock * BLOCK;
    }
  }

  private static void report(
      PrintStream out,
      Settings settings,
      List<Result> results,
      int frameBytes,
      double loadBefore,
      long elapsedNanos) {
    out.printf(
        Locale.ROOT,
        "Machine: %d cores, %s %s %s, Java %s (%s), %s transport; 1-minute load average %.1f"
            + " before the run, %.1f after; the run took %.0f s.%n",
        Runtime.getRuntime().availableProcessors(),
        System.getProperty("os.name"),
        System.getProperty("os.version"),
        System.getProperty("os.arch"),
        System.getProperty("java.version"),
        System.getProperty("java.vm.name"),
        NettyFanout.EPOLL ? "epoll" : "NIO",
        loadBefore,
        loadAverage(),
        elapsedNanos / 1e9);
    out.printf(
        Locale.ROOT,
        "One server thread pushes ticks (a sequence number and %d bytes) as fast as the slowest"
            + " observer allows (at most %d updates in flight per observer); PBJ's frame for a"
            + " tick is %d bytes on the wire and the floor sends frames of that size. Per stack"
            + " and observer count: %.1f s warm-up, then %d round%s of about %.1f s (updates pushed is"
            + " their total); the rate is the median over the rounds of deliveries over all"
            + " observers per second, from the first push to the last delivery.%n%n",
        PAYLOAD_BYTES,
        2 * BLOCK,
        frameBytes,
        settings.warmupSeconds(),
        settings.rounds(),
        settings.rounds() == 1 ? "" : "s",
        settings.roundSeconds());
    out.println("| stack | observers | updates pushed | deliveries/s | ratio to floor |");
    out.println("| --- | ---: | ---: | ---: | ---: |");
    for (Result r : results) {
      if (r.failure() != null) {
        out.printf("| %s | %d | failed: %s | | |%n", r.stack(), r.observers(), r.failure());
        continue;
      }
      out.printf(
          Locale.ROOT,
          "| %s | %d | %,d | %,.0f | %s |%n",
          r.stack(),
          r.observers(),
          r.updatesPushed(),
          r.medianRate(),
          ratio(r, floorOf(results, r.observers())));
    }
    out.println();
    out.println(
        "| stack | observers | deliveries checked | missing | out of order | coalesced"
            + " | deliveries/s range over rounds |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Result r : results) {
      if (r.failure() != null) {
        continue;
      }
      double[] rates = r.ratesPerRound();
      out.printf(
          Locale.ROOT,
          "| %s | %d | %,d | %d | %d | %d | %,.0f – %,.0f |%n",
          r.stack(),
          r.observers(),
          r.deliveries(),
          r.missing(),
          r.outOfOrder(),
          r.coalesced(),
          Arrays.stream(rates).min().orElse(0),
          Arrays.stream(rates).max().orElse(0));
    }
  }

  private static Result floorOf(List<Result> results, int observers) {
    return results.stream()
        .filter(r -> r.observers() == observers && r.stack().equals("raw Netty"))
        .filter(r -> r.failure() == null)
        .findFirst()
        .orElse(null);
  }

  private static String ratio(Result r, Result floor) {
    if (floor == null) {
      return "n/a";
    }
    return String.format(Locale.ROOT, "%.2f", r.medianRate() / floor.medianRate());
  }

  private static long seconds(double s) {
    return (long) (s * TimeUnit.SECONDS.toNanos(1));
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }
}
