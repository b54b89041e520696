package io.pbj.bench.publish;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;

/**
 * Prints the publish benchmark's markdown tables: with more than one link, the median times on
 * every link side by side; then for each link, per strategy and stale level, the medians of cold
 * and warm time, bytes and extra round trips, the spread and store costs, where a session's time
 * goes, and PBJ's targets at 0% stale.
 *
 * <p>Thread-safety: stateless.
 */
final class Report {
  /** Targets at 0% stale: warm time at most this fraction of cold... */
  static final double TIME_TARGET = 0.10;
  /** ...and warm bytes at most this fraction of cold. */
  static final double BYTES_TARGET = 0.05;

  private Report() {}

  /** The measurements of one strategy at one stale level on one link. */
  private record Group(Strategy strategy, double percent, List<Measurement> runs) {
    long median(ToLongFunction<Measurement> f) {
      long[] v = runs.stream().mapToLong(f).sorted().toArray();
      int m = v.length / 2;
      return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    long min(ToLongFunction<Measurement> f) {
      return runs.stream().mapToLong(f).min().orElse(0);
    }

    long max(ToLongFunction<Measurement> f) {
      return runs.stream().mapToLong(f).max().orElse(0);
    }

    long coldNanos() {
      return median(m -> m.cold().nanos());
    }

    long warmNanos() {
      return median(m -> m.warm().nanos());
    }

    long coldBytes() {
      return median(m -> m.cold().bytes());
    }

    long warmBytes() {
      return median(m -> m.warm().bytes());
    }
  }

  static void print(
      PrintStream out,
      Options options,
      List<Measurement> measurements,
      double loadBefore,
      double loadAfter,
      double seconds) {
    out.println();
    out.printf(Locale.ROOT,
        "Machine: %d cores, %s %s %s, Java %s (%s), max heap %d MiB; 1-minute load average %.1f"
            + " before the run, %.1f after; the run took %.0f s.%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"),
        System.getProperty("os.version"), System.getProperty("os.arch"),
        System.getProperty("java.version"), System.getProperty("java.vm.name"),
        Runtime.getRuntime().maxMemory() >> 20, loadBefore, loadAfter, seconds);
    out.printf(Locale.ROOT,
        "%,d objects of %,d bytes, MapDB file store (default write-behind: commit every 1,000"
            + " puts or 200 ms, at most 10,000 queued); per link %d warm-up repetition%s, then the"
            + " median of the counted ones. Times run from the call that delivers the objects to"
            + " activation done; bytes are the client connection's sent + received in that time;"
            + " extra round trips are calls beyond that one.%n%n",
        options.objects(), options.stateBytes(), options.warmup(),
        options.warmup() == 1 ? "" : "s");
    for (Link link : options.links()) {
      out.printf(Locale.ROOT, "- %s: %s; median of %d.%n", link.name(), link.description(),
          options.reps(link));
    }
    out.println();
    out.println("Columns of the per-link tables. Spread and store costs: cold flush = the store's"
        + " flush() right after activation done, i.e. write-behind commits not finished by then"
        + " and not in the cold time; reopen = opening the store file before the warm session,"
        + " not in the warm time; dropped = puts the full write-behind queue refused during the"
        + " session, which the client then flushed and wrote again inside its session time."
        + " Where the session time goes (medians, ms): answer = from the call to the client's"
        + " first store read or write, i.e. the answer carrying the objects sent, decoded and its"
        + " caches created (for the inventory mode this includes listing the store and sending the"
        + " inventory, shown apart too); reads = store get()s; writes = store put()/putAll() (and"
        + " any flush after a dropped batch); rest = the remainder (fetch round trips, applying"
        + " states, activation hooks).");

    List<List<Group>> byLink = new ArrayList<>();
    for (Link link : options.links()) {
      byLink.add(groups(options, measurements, link));
    }
    if (options.links().size() > 1) {
      sideBySide(out, options, byLink);
    }
    for (int i = 0; i < options.links().size(); i++) {
      linkSection(out, options.links().get(i), byLink.get(i));
    }
  }

  private static List<Group> groups(Options options, List<Measurement> measurements, Link link) {
    List<Group> groups = new ArrayList<>();
    for (double p : options.stalePercents()) {
      for (Strategy s : options.strategies()) {
        List<Measurement> runs = measurements.stream()
            .filter(m -> m.link().equals(link) && m.strategy() == s && m.stalePercent() == p)
            .toList();
        if (!runs.isEmpty()) {
          groups.add(new Group(s, p, runs));
        }
      }
    }
    return groups;
  }

  /** Cold and warm median time of every strategy and stale level, one column group per link. */
  private static void sideBySide(PrintStream out, Options options, List<List<Group>> byLink) {
    out.println();
    out.println("### All links: median time");
    out.println();
    StringBuilder header = new StringBuilder("| strategy | stale |");
    StringBuilder rule = new StringBuilder("| --- | ---: |");
    for (Link link : options.links()) {
      header.append(String.format(Locale.ROOT, " %1$s cold ms | %1$s warm ms | %1$s warm / cold |",
          link.name()));
      rule.append(" ---: | ---: | ---: |");
    }
    out.println(header);
    out.println(rule);
    List<Group> first = byLink.get(0);
    for (Group row : first) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "| %s | %s%% |",
          row.strategy().label(), percent(row.percent())));
      for (List<Group> groups : byLink) {
        Group g = groups.stream()
            .filter(x -> x.strategy() == row.strategy() && x.percent() == row.percent())
            .findFirst().orElse(null);
        if (g == null) {
          line.append(" n/a | n/a | n/a |");
        } else {
          line.append(String.format(Locale.ROOT, " %.1f | %.1f | %.3f |", ms(g.coldNanos()),
              ms(g.warmNanos()), (double) g.warmNanos() / g.coldNanos()));
        }
      }
      out.println(line);
    }
  }

  /** The tables and the target check of one link. */
  private static void linkSection(PrintStream out, Link link, List<Group> groups) {
    out.println();
    out.printf(Locale.ROOT, "### Link %s%n%n", link.name());
    out.println("| strategy | stale | cold ms | warm ms | warm / cold time | cold bytes"
        + " | warm bytes | warm / cold bytes | extra round trips cold / warm |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Group g : groups) {
      out.printf(Locale.ROOT, "| %s | %s%% | %.1f | %.1f | %.3f | %,d | %,d | %.2f%% | %d / %d |%n",
          g.strategy().label(), percent(g.percent()), ms(g.coldNanos()), ms(g.warmNanos()),
          (double) g.warmNanos() / g.coldNanos(), g.coldBytes(), g.warmBytes(),
          100.0 * g.warmBytes() / g.coldBytes(), g.median(m -> m.cold().extraCalls()),
          g.median(m -> m.warm().extraCalls()));
    }

    out.println();
    out.printf(Locale.ROOT, "Spread and store costs, %s:%n%n", link.name());
    out.println("| strategy | stale | stale objects | warm hits / from server"
        + " | cold ms min – max | warm ms min – max | cold flush ms | reopen ms | warm flush ms"
        + " | dropped cold / warm |");
    out.println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Group g : groups) {
      out.printf(Locale.ROOT,
          "| %s | %s%% | %,d | %,d / %,d | %.1f – %.1f | %.1f – %.1f | %s | %s | %s"
              + " | %d / %d |%n",
          g.strategy().label(), percent(g.percent()), g.runs().get(0).staleObjects(),
          g.median(m -> m.warm().hits()), g.median(m -> m.warm().fromServer()),
          ms(g.min(m -> m.cold().nanos())), ms(g.max(m -> m.cold().nanos())),
          ms(g.min(m -> m.warm().nanos())), ms(g.max(m -> m.warm().nanos())),
          storeMs(g, g.median(Measurement::coldFlushNanos)),
          storeMs(g, g.median(Measurement::openNanos)),
          storeMs(g, g.median(Measurement::warmFlushNanos)),
          g.median(m -> m.cold().droppedWrites()), g.median(m -> m.warm().droppedWrites()));
    }

    out.println();
    out.printf(Locale.ROOT, "Where the session time goes, %s (medians, ms):%n%n", link.name());
    out.println("| strategy | stale | session | total | answer | of which inventory list | reads"
        + " | writes | rest |");
    out.println("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (Group g : groups) {
      if (!g.strategy().usesStore()) {
        continue;
      }
      breakdownRow(out, g, "cold", true);
      breakdownRow(out, g, "warm", false);
    }

    out.println();
    out.printf(Locale.ROOT, "Targets on %s at 0%% stale (PBJ modes): warm time at most %.0f%% of"
        + " cold, warm bytes at most %.0f%% of cold.%n%n", link.name(), TIME_TARGET * 100,
        BYTES_TARGET * 100);
    boolean any = false;
    for (Group g : groups) {
      if (!g.strategy().hasTargets() || g.percent() != 0) {
        continue;
      }
      any = true;
      double time = (double) g.warmNanos() / g.coldNanos();
      double bytes = (double) g.warmBytes() / g.coldBytes();
      out.printf(Locale.ROOT,
          "- %s, %s: warm time %.1f ms = %.1f%% of cold %.1f ms: %s; warm bytes %,d = %.2f%% of"
              + " cold %,d: %s%n",
          link.name(), g.strategy().label(), ms(g.warmNanos()), 100 * time, ms(g.coldNanos()),
          time <= TIME_TARGET ? "PASS" : "MISS", g.warmBytes(), 100 * bytes, g.coldBytes(),
          bytes <= BYTES_TARGET ? "PASS" : "MISS");
    }
    if (!any) {
      out.println("- not measured: run with a PBJ strategy and a 0% stale level");
    }
  }

  private static void breakdownRow(PrintStream out, Group g, String label, boolean cold) {
    ToLongFunction<Measurement> total = m -> (cold ? m.cold() : m.warm()).nanos();
    out.printf(Locale.ROOT, "| %s | %s%% | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
        g.strategy().label(), percent(g.percent()), label,
        ms(g.median(total)),
        ms(g.median(m -> (cold ? m.cold() : m.warm()).answerNanos())),
        ms(g.median(m -> (cold ? m.cold() : m.warm()).listNanos())),
        ms(g.median(m -> (cold ? m.cold() : m.warm()).readNanos())),
        ms(g.median(m -> (cold ? m.cold() : m.warm()).writeNanos())),
        ms(g.median(m -> (cold ? m.cold() : m.warm()).restNanos())));
  }

  private static String storeMs(Group g, long nanos) {
    return g.strategy().usesStore() ? String.format(Locale.ROOT, "%.1f", ms(nanos)) : "n/a";
  }

  static String percent(double p) {
    return p == Math.rint(p) ? Long.toString((long) p) : Double.toString(p);
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }
}
