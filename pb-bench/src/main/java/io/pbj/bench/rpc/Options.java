package io.pbj.bench.rpc;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The RPC benchmark's command line, parsed.
 *
 * @param quick a smoke run with few calls
 * @param inProcess every stack in this JVM rather than one JVM each
 * @param serve set in a benchmark JVM started by another: the one stack it serves
 * @param help print the usage and stop
 * @param window calls in flight in the pipelined run
 * @param stacks the stacks, in table order
 * @param payloads the payload sizes in bytes
 */
record Options(
    boolean quick,
    boolean inProcess,
    StackKind serve,
    boolean help,
    int window,
    List<StackKind> stacks,
    List<Integer> payloads) {

  /** Option that makes a JVM serve one stack to the JVM that started it; not in the usage. */
  static final String SERVE = "--serve";

  static void usage(PrintStream out) {
    out.println("usage: rpc [--quick] [--stacks netty,grpc,rmi,pbj] [--payloads 16,1024]");
    out.println("           [--window 64] [--in-process]");
    out.println("  --quick       a smoke run: one short round, numbers not to be trusted");
    out.println("  --stacks      which stacks, in this order (default: " + String.join(",",
        StackKind.defaults().stream().map(StackKind::id).toList()) + ";");
    out.println("                also pbj-proxy-get: typed proxy + get(), and pbj-same-thread, a");
    out.println("                diagnostic: PBJ without executor hand-offs)");
    out.println("  --payloads    payload sizes in bytes (default: 16,1024)");
    out.println("  --window      calls in flight in the pipelined run (default: 64)");
    out.println("  --in-process  run every stack in this JVM instead of one JVM each");
    out.println("Set -Dio.pbj.noEpoll=true to run PBJ and raw Netty on NIO instead of epoll.");
  }

  Harness.Settings settings() {
    return quick ? Harness.Settings.quick(window) : Harness.Settings.full(window);
  }

  /** The arguments of a JVM that serves {@code kind} with these settings. */
  List<String> serveArguments(StackKind kind) {
    List<String> args = new ArrayList<>();
    args.add(SERVE);
    args.add(kind.id());
    args.add("--window");
    args.add(Integer.toString(window));
    if (quick) {
      args.add("--quick");
    }
    return args;
  }

  /** Parses {@code args}; an unknown option, a repeated one or a bad value fails naming it. */
  static Options parse(String[] args) {
    boolean quick = false;
    boolean inProcess = false;
    boolean help = false;
    StackKind serve = null;
    int window = 64;
    List<StackKind> stacks = StackKind.defaults();
    List<Integer> payloads = List.of(16, 1024);
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      if (!seen.add(option)) {
        throw new IllegalArgumentException("option " + option + " given twice");
      }
      switch (option) {
        case "--quick" -> quick = true;
        case "--in-process" -> inProcess = true;
        case "-h", "--help" -> help = true;
        case SERVE -> serve = StackKind.byId(value(args, ++i, option));
        case "--stacks" -> stacks = parseStacks(value(args, ++i, option));
        case "--payloads" -> payloads = parseSizes(value(args, ++i, option), option);
        case "--window" -> window = parsePositive(value(args, ++i, option), option);
        default -> throw new IllegalArgumentException("unknown option " + option);
      }
    }
    return new Options(quick, inProcess, serve, help, window, stacks, payloads);
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException("option " + option + " needs a value");
    }
    return args[index];
  }

  private static List<StackKind> parseStacks(String value) {
    Set<StackKind> stacks = new LinkedHashSet<>();
    for (String id : value.split(",")) {
      stacks.add(StackKind.byId(id.trim()));
    }
    return List.copyOf(stacks);
  }

  private static List<Integer> parseSizes(String value, String option) {
    Set<Integer> sizes = new LinkedHashSet<>();
    for (String size : value.split(",")) {
      sizes.add(parsePositive(size.trim(), option));
    }
    return List.copyOf(sizes);
  }

  private static int parsePositive(String value, String option) {
    try {
      int parsed = Integer.parseInt(value);
      if (parsed > 0) {
        return parsed;
      }
    } catch (NumberFormatException e) {
      // fall through to the message naming the option
    }
    throw new IllegalArgumentException(
        "option " + option + " needs a positive whole number, not '" + value + "'");
  }
}
