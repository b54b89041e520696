package io.pbj.bench.cluster;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.Set;

/**
 * The cluster benchmark's command line, parsed. The defaults are issue 14's sizes; {@code
 * --quick} changes the defaults of the options not given to a run of a few seconds.
 *
 * @param quick a smoke run
 * @param help print the usage and stop
 * @param clients clients attached across the members, each its own {@code PbClient}
 * @param objects published objects
 * @param stateBytes state size per object
 * @param rate changes a second the live driver writes while a member is killed
 * @param seconds length of each throughput run
 * @param writers driver threads of the throughput runs
 */
record Options(
    boolean quick,
    boolean help,
    int clients,
    int objects,
    int stateBytes,
    int rate,
    int seconds,
    int writers) {

  /** Members of the cluster. */
  static final int MEMBERS = 3;

  static void usage(PrintStream out) {
    out.println("usage: cluster [--quick] [--clients 300] [--objects 1000] [--size 256]");
    out.println("               [--rate 200] [--seconds 5] [--writers 4]");
    out.println("  --quick    a smoke run: 12 clients, 100 objects, 2 s throughput runs");
    out.println("  --clients  clients attached across the 3 members, each its own PbClient");
    out.println("             with an in-memory store (default 300); a third are orphaned");
    out.println("  --objects  published objects (default 1000)");
    out.println("  --size     state bytes per object (default 256)");
    out.println("  --rate     changes a second the live driver writes through a surviving member");
    out.println("             while a member is killed (default 200)");
    out.println("  --seconds  length of each throughput run, plain origin then cluster");
    out.println("             (default 5)");
    out.println("  --writers  driver threads of the throughput runs (default 4)");
  }

  /** Parses {@code args}; an unknown option, a repeated one or a bad value fails naming it. */
  static Options parse(String[] args) {
    boolean quick = false;
    boolean help = false;
    Integer clients = null;
    Integer objects = null;
    int stateBytes = 256;
    int rate = 200;
    Integer seconds = null;
    int writers = 4;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (!seen.add(option)) {
        throw new IllegalArgumentException("option " + option + " given twice");
      }
      switch (option) {
        case "--quick" -> quick = true;
        case "-h", "--help" -> help = true;
        case "--clients" -> clients = within(MEMBERS, 5000, value(args, ++i, option), option);
        case "--objects" -> objects = within(1, 100_000, value(args, ++i, option), option);
        case "--size" -> stateBytes = within(16, 1 << 20, value(args, ++i, option), option);
        case "--rate" -> rate = within(1, 1_000_000, value(args, ++i, option), option);
        case "--seconds" -> seconds = within(1, 3600, value(args, ++i, option), option);
        case "--writers" -> writers = within(1, 256, value(args, ++i, option), option);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    return new Options(
        quick,
        help,
        clients != null ? clients : quick ? 12 : 300,
        objects != null ? objects : quick ? 100 : 1000,
        stateBytes,
        rate,
        seconds != null ? seconds : quick ? 2 : 5,
        writers);
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return args[index];
  }

  private static int within(int min, int max, String value, String option) {
    try {
      int parsed = Integer.parseInt(value);
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException("option " + option + " needs a whole number from " + min
        + " to " + max + ", not '" + value + "'");
  }
}
