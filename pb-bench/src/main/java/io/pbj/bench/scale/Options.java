package io.pbj.bench.scale;

import java.io.PrintStream;
import java.util.HashSet;
import java.util.Set;

/**
 * The scale benchmark's command line, parsed. The defaults are issue 11's sizes (target 7);
 * {@code --quick} changes the defaults of the options not given to a run of a few seconds.
 *
 * @param quick a smoke run
 * @param help print the usage and stop
 * @param clients clients that attach, each its own {@code PbClient} on loopback TCP
 * @param objects published objects
 * @param stateBytes state size per object
 * @param staggerMillis the attaches start evenly spread over this many milliseconds
 * @param ticks ticks of updates after the attaches
 * @param perTick objects a tick changes (each gets a new whole state)
 * @param relays relays in the tree run (0: the direct run only)
 */
record Options(
    boolean quick,
    boolean help,
    int clients,
    int objects,
    int stateBytes,
    int staggerMillis,
    int ticks,
    int perTick,
    int relays) {

  static void usage(PrintStream out) {
    out.println("usage: scale [--quick] [--clients 500] [--objects 1000] [--size 256]");
    out.println("             [--stagger-ms 5000] [--ticks 100] [--per-tick 20] [--relays 4]");
    out.println("  --quick       a smoke run: 8 clients, 100 objects, 10 ticks of 20, 2 relays");
    out.println("  --clients     clients attaching warm, each its own PbClient (default 500)");
    out.println("  --objects     published objects (default 1000)");
    out.println("  --size        state bytes per object (default 256)");
    out.println("  --stagger-ms  the attaches start spread evenly over this time (default 5000)");
    out.println("  --ticks       ticks of updates after the attaches (default 100)");
    out.println("  --per-tick    objects each tick gives a new whole state, the next ones round");
    out.println("                robin (default 20; --per-tick 1000 changes every object every");
    out.println("                tick: 50 times the work, several minutes of CPU at 500 clients)");
    out.println("  --relays      relays between the origin and the clients in the second run");
    out.println("                (default 4; 0 runs the direct case only)");
  }

  /** Parses {@code args}; an unknown option, a repeated one or a bad value fails naming it. */
  static Options parse(String[] args) {
    boolean quick = false;
    boolean help = false;
    Integer clients = null;
    Integer objects = null;
    int stateBytes = 256;
    Integer stagger = null;
    Integer ticks = null;
    Integer perTick = null;
    Integer relays = null;
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (!seen.add(option)) {
        throw new IllegalArgumentException("option " + option + " given twice");
      }
      switch (option) {
        case "--quick" -> quick = true;
        case "-h", "--help" -> help = true;
        case "--clients" -> clients = atLeast(1, value(args, ++i, option), option);
        case "--objects" -> objects = atLeast(1, value(args, ++i, option), option);
        case "--size" -> stateBytes = atLeast(8, value(args, ++i, option), option);
        case "--stagger-ms" -> stagger = atLeast(0, value(args, ++i, option), option);
        case "--ticks" -> ticks = atLeast(1, value(args, ++i, option), option);
        case "--per-tick" -> perTick = atLeast(1, value(args, ++i, option), option);
        case "--relays" -> relays = atLeast(0, value(args, ++i, option), option);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    Options o = new Options(
        quick,
        help,
        clients != null ? clients : quick ? 8 : 500,
        objects != null ? objects : quick ? 100 : 1000,
        stateBytes,
        stagger != null ? stagger : quick ? 200 : 5000,
        ticks != null ? ticks : quick ? 10 : 100,
        perTick != null ? perTick : 20,
        relays != null ? relays : quick ? 2 : 4);
    if (o.perTick > o.objects) {
      throw new IllegalArgumentException("option --per-tick (" + o.perTick
          + ") must not exceed --objects (" + o.objects + ")");
    }
    if (o.relays > o.clients) {
      throw new IllegalArgumentException("option --relays (" + o.relays
          + ") must not exceed --clients (" + o.clients + ")");
    }
    return o;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return args[index];
  }

  private static int atLeast(int min, String value, String option) {
    try {
      int parsed = Integer.parseInt(value);
      if (parsed >= min) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException(
        "option " + option + " needs a whole number >= " + min + ", not '" + value + "'");
  }
}
