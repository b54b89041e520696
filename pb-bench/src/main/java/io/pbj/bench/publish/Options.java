package io.pbj.bench.publish;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The publish benchmark's command line, parsed.
 *
 * @param quick a smoke run: fewer objects, no warm-up round, one repetition per link
 * @param help print the usage and stop
 * @param objects published objects
 * @param stateBytes state size per object
 * @param warmup repetitions run first and not counted
 * @param loopbackReps counted repetitions on loopback; the report gives their median
 * @param linkReps counted repetitions on a simulated link (fewer by default: its sessions are
 *     slower)
 * @param links the links to measure on, in report order
 * @param stalePercents stale levels, percent of the objects changed between sessions
 * @param strategies the strategies, in report order
 * @param profileWarmSeconds if positive, a diagnostic instead of the benchmark: one cold session
 *     of the first strategy, then warm sessions with nothing stale for this long, for a profiler
 */
record Options(
    boolean quick,
    boolean help,
    int objects,
    int stateBytes,
    int warmup,
    int loopbackReps,
    int linkReps,
    List<Link> links,
    List<Double> stalePercents,
    List<Strategy> strategies,
    int profileWarmSeconds) {

  static final String DEFAULT_LINKS = "loopback,100mbit-20ms";

  /** Counted repetitions on {@code link}. */
  int reps(Link link) {
    return link.isLoopback() ? loopbackReps : linkReps;
  }

  static void usage(PrintStream out) {
    out.println("usage: publish [--quick] [--objects 10000] [--size 1024] [--reps N] [--warmup 1]");
    out.println("               [--link " + DEFAULT_LINKS + "] [--stale 0,1,10]");
    out.println("               [--strategies inventory,versions,plain,per-object]");
    out.println("  --quick       a smoke run: 1000 objects, no warm-up, 1 repetition per link");
    out.println("  --objects     published objects (default 10000)");
    out.println("  --size        state bytes per object (default 1024)");
    out.println("  --reps        counted repetitions; the tables show medians (default 5");
    out.println("                on loopback, 3 on a simulated link; given, for every link)");
    out.println("  --warmup      repetitions run first and not counted (default 1)");
    out.println("  --link        where to measure, in this order: 'loopback' (direct) or");
    out.println("                '<N>mbit-<M>ms', through a proxy with N Mbit/s each way and");
    out.println("                M ms round trip (default " + DEFAULT_LINKS + ")");
    out.println("  --stale       percent of the objects the server changes between the cold and");
    out.println("                the warm session (default 0,1,10)");
    out.println("  --strategies  which strategies, in this order (default: all four)");
    out.println("  --profile-warm S");
    out.println("                a diagnostic for profilers: one cold session of the first");
    out.println("                strategy on the first link, then warm sessions with nothing");
    out.println("                stale for S seconds");
  }

  /** Parses {@code args}; an unknown option, a repeated one or a bad value fails naming it. */
  static Options parse(String[] args) {
    boolean quick = false;
    boolean help = false;
    Integer objects = null;
    int stateBytes = 1024;
    Integer warmup = null;
    Integer reps = null;
    List<Link> links = Link.parseList(DEFAULT_LINKS);
    List<Double> stale = List.of(0.0, 1.0, 10.0);
    List<Strategy> strategies = List.of(Strategy.values());
    int profileWarmSeconds = 0;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (!seen.add(option)) {
        throw new IllegalArgumentException("option " + option + " given twice");
      }
      switch (option) {
        case "--quick" -> quick = true;
        case "-h", "--help" -> help = true;
        case "--objects" -> objects = positive(value(args, ++i, option), option);
        case "--size" -> stateBytes = positive(value(args, ++i, option), option);
        case "--reps" -> reps = positive(value(args, ++i, option), option);
        case "--warmup" -> warmup = nonNegative(value(args, ++i, option), option);
        case "--link" -> links = links(value(args, ++i, option), option);
        case "--stale" -> stale = percents(value(args, ++i, option), option);
        case "--strategies" -> strategies = Strategy.parseList(value(args, ++i, option));
        case "--profile-warm" -> profileWarmSeconds = positive(value(args, ++i, option), option);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    return new Options(
        quick,
        help,
        objects != null ? objects : quick ? 1000 : 10_000,
        stateBytes,
        warmup != null ? warmup : quick ? 0 : 1,
        reps != null ? reps : quick ? 1 : 5,
        reps != null ? reps : quick ? 1 : 3,
        links,
        stale,
        strategies,
        profileWarmSeconds);
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return args[index];
  }

  private static List<Link> links(String value, String option) {
    try {
      return Link.parseList(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("option " + option + ": " + e.getMessage(), e);
    }
  }

  private static List<Double> percents(String value, String option) {
    Set<Double> levels = new LinkedHashSet<>();
    for (String part : value.split(",")) {
      try {
        double p = Double.parseDouble(part.trim());
        if (p >= 0 && p <= 100) {
          levels.add(p);
          continue;
        }
      } catch (NumberFormatException e) {
        // fall through to the message naming the option
      }
      throw new IllegalArgumentException(
          "option " + option + " takes percentages from 0 to 100, not '" + part + "'");
    }
    return new ArrayList<>(levels);
  }

  private static int positive(String value, String option) {
    int parsed = nonNegative(value, option);
    if (parsed == 0) {
      throw new IllegalArgumentException("option " + option + " needs a positive number, not 0");
    }
    return parsed;
  }

  private static int nonNegative(String value, String option) {
    try {
      int parsed = Integer.parseInt(value);
      if (parsed >= 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException(
        "option " + option + " needs a whole number >= 0, not '" + value + "'");
  }
}
