package io.pbj.bench.live;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.Set;

/**
 * The live benchmark's command line, parsed. The defaults are issue 10's sizes; {@code --quick}
 * changes the defaults of the options not given to a run of a second or two.
 *
 * @param quick a smoke run
 * @param help print the usage and stop
 * @param objects published objects at the start (their number stays about the same)
 * @param clients attached clients, each its own {@code PbClient} on loopback TCP
 * @param rate changes per second the server makes
 * @param seconds how long each mode runs
 * @param stateBytes state size per object
 * @param patchBytes bytes a change overwrites
 * @param churnPercent percent of the changes that publish a new object or unpublish one
 *     (alternately) instead of changing bytes
 */
record Options(
    boolean quick,
    boolean help,
    int objects,
    int clients,
    int rate,
    int seconds,
    int stateBytes,
    int patchBytes,
    double churnPercent) {

  /** Changes each mode makes. */
  int changes() {
    return Math.multiplyExact(rate, seconds);
  }

  static void usage(PrintStream out) {
    out.println("usage: live [--quick] [--objects 10000] [--clients 100] [--rate 1000]");
    out.println("            [--seconds 10] [--size 1024] [--patch 12] [--churn 1]");
    out.println("  --quick     a smoke run: 200 objects, 4 clients, 500 changes/s for 1 s");
    out.println("  --objects   published objects (default 10000)");
    out.println("  --clients   attached clients, each its own PbClient (default 100)");
    out.println("  --rate      changes per second (default 1000)");
    out.println("  --seconds   seconds each mode runs (default 10)");
    out.println("  --size      state bytes per object (default 1024)");
    out.println("  --patch     bytes a change overwrites (default 12; with its offset, about 16 B");
    out.println("              of delta arguments)");
    out.println("  --churn     percent of the changes that publish or unpublish an object");
    out.println("              (alternately) instead (default 1)");
  }

  /** Parses {@code args}; an unknown option, a repeated one or a bad value fails naming it. */
  static Options parse(String[] args) {
    boolean quick = false;
    boolean help = false;
    Integer objects = null;
    Integer clients = null;
    Integer rate = null;
    Integer seconds = null;
    int stateBytes = 1024;
    int patchBytes = 12;
    double churn = 1.0;
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
        case "--clients" -> clients = positive(value(args, ++i, option), option);
        case "--rate" -> rate = positive(value(args, ++i, option), option);
        case "--seconds" -> seconds = positive(value(args, ++i, option), option);
        case "--size" -> stateBytes = positive(value(args, ++i, option), option);
        case "--patch" -> patchBytes = positive(value(args, ++i, option), option);
        case "--churn" -> churn = percent(value(args, ++i, option), option);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    if (patchBytes > stateBytes) {
      throw new IllegalArgumentException("option --patch (" + patchBytes
          + ") must not exceed --size (" + stateBytes + ")");
    }
    Options o = new Options(
        quick,
        help,
        objects != null ? objects : quick ? 200 : 10_000,
        clients != null ? clients : quick ? 4 : 100,
        rate != null ? rate : quick ? 500 : 1000,
        seconds != null ? seconds : quick ? 1 : 10,
        stateBytes,
        patchBytes,
        churn);
    try {
      o.changes();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "options --rate " + o.rate + " and --seconds " + o.seconds + " make too many changes");
    }
    return o;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return args[index];
  }

  private static double percent(String value, String option) {
    try {
      double p = Double.parseDouble(value);
      if (p >= 0 && p <= 100) {
        return p;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException(
        "option " + option + " takes a percentage from 0 to 100, not '" + value + "'");
  }

  private static int positive(String value, String option) {
    try {
      int parsed = Integer.parseInt(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException(
        "option " + option + " needs a whole number > 0, not '" + value + "'");
  }
}
