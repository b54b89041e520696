package io.pbj.bench.publish;

import io.pbj.store.SnapshotStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;

/**
 * The publishing benchmark: reactivation of N published objects (default 10,000 of 1 KiB) when
 * 0%, 1% and 10% of them changed since the client's last session, for PBJ's two handshakes
 * (inventory and versions mode), an ordinary Cacheable per object (no store: full state every
 * session) and a per-object fetch baseline after Twisted's publish.py (one call per stale
 * object), on loopback and on simulated slower links. Prints markdown tables of cold and warm
 * session time, bytes on the wire and extra round trips, and checks PBJ's targets at 0% stale,
 * per link.
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar publish            # the full run, a few minutes
 * java -jar pb-bench/target/pbj-bench.jar publish --quick    # a smoke run
 * java -jar pb-bench/target/pbj-bench.jar publish --link loopback,10mbit-50ms
 * }</pre>
 *
 * <p>Everything runs in this JVM over loopback TCP: the servers (see {@link World}) and one new
 * client connection per session, either straight to the servers ({@code loopback}) or through a
 * {@link LinkProxy} that simulates a link of limited bandwidth and a round-trip time (e.g.
 * {@code 100mbit-20ms}); {@code --link} lists the links, each measured in the same run. Each
 * repetition, for each link, stale level and strategy in turn: a cold session on an empty MapDB
 * file store in a temporary folder, the store flushed and closed; the server changes the stale
 * fraction of objects ({@code republish()}); the store reopened and a warm session. The first
 * {@code --warmup} repetitions are not counted; the report gives medians over the rest, per link.
 * Links and strategies take turns within each repetition, so a burst of load from elsewhere does
 * not land on one of them alone; a link with fewer repetitions (a simulated one, by default)
 * drops out after its last.
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class PublishBench {
  private PublishBench() {}

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("publish: " + e.getMessage());
      Options.usage(System.err);
      System.exit(2);
      return;
    }
    if (options.help()) {
      Options.usage(System.out);
      return;
    }
    if (options.profileWarmSeconds() > 0) {
      profileWarm(options);
      return;
    }
    run(options);
  }

  private static void run(Options options) throws Exception {
    double loadBefore = loadAverage();
    long started = System.nanoTime();
    Path dir = Files.createTempDirectory("pbj-publish-bench");
    List<Measurement> counted = new ArrayList<>();
    List<LinkProxy> proxies = new ArrayList<>();
    try (World world = new World(options.objects(), options.stateBytes())) {
      List<Route> routes = new ArrayList<>();
      for (Link link : options.links()) {
        routes.add(route(world, link, proxies));
      }
      Clients clients = new Clients(world);
      int rounds = 0;
      for (Link link : options.links()) {
        rounds = Math.max(rounds, options.warmup() + options.reps(link));
      }
      int seq = 0;
      for (int rep = 0; rep < rounds; rep++) {
        boolean warmup = rep < options.warmup();
        for (Route route : routes) {
          if (rep >= options.warmup() + options.reps(route.link())) {
            continue;
          }
          for (double percent : options.stalePercents()) {
            for (Strategy s : options.strategies()) {
              Measurement m = measure(
                  world, clients, route, s, percent, rep, dir.resolve("m" + seq++));
              System.err.println(progressLine(m, rep, options, warmup));
              if (!warmup) {
                counted.add(m);
              }
            }
          }
        }
      }
    } finally {
      for (LinkProxy proxy : proxies) {
        proxy.close();
      }
      deleteTree(dir);
    }
    Report.print(System.out, options, counted, loadBefore, loadAverage(),
        (System.nanoTime() - started) / 1e9);
  }

  /** Where a strategy's client connects on one link: the servers themselves, or a proxy. */
  private record Route(Link link, int publishingPort, int plainPort) {
    int port(Strategy s) {
      return s == Strategy.PLAIN ? plainPort : publishingPort;
    }
  }

  /** The route over {@code link}: direct on loopback, else a new proxy (added to proxies). */
  private static Route route(World world, Link link, List<LinkProxy> proxies)
      throws InterruptedException {
    if (link.isLoopback()) {
      return new Route(link, world.port(Strategy.INVENTORY), world.port(Strategy.PLAIN));
    }
    LinkProxy proxy = new LinkProxy(link);
    proxies.add(proxy);
    return new Route(link, proxy.forward(world.port(Strategy.INVENTORY)),
        proxy.forward(world.port(Strategy.PLAIN)));
  }

  private static Measurement measure(
      World world, Clients clients, Route route, Strategy s, double percent, int rep, Path dir)
      throws Exception {
    int stale = (int) Math.round(world.size() * percent / 100);
    Path file = dir.resolve("snapshots.db");
    TimedStore store = null;
    long coldFlush = 0;
    long open = 0;
    long warmFlush = 0;
    if (s.usesStore()) {
      Files.createDirectories(dir);
      store = open(file);
    }
    try {
      System.gc();
      Session cold = clients.run(s, route.port(s), store);
      if (store != null) {
        coldFlush = flush(store);
        store.close();
        store = null;
      }
      world.awaitIdle();
      world.makeStale(s, stale, rep);
      if (s.usesStore()) {
        long t = System.nanoTime();
        store = open(file);
        open = System.nanoTime() - t;
      }
      System.gc();
      Session warm = clients.run(s, route.port(s), store);
      if (store != null) {
        warmFlush = flush(store);
      }
      world.awaitIdle();
      int expectedHits = s.usesStore() ? world.size() - stale : 0;
      if (warm.hits() != expectedHits) {
        System.err.printf(
            "publish: %s, %s at %s%% stale: %d hits in the warm session, expected %d%n",
            route.link().name(), s.label(), percent, warm.hits(), expectedHits);
      }
      return new Measurement(
          route.link(), s, percent, stale, cold, coldFlush, open, warm, warmFlush);
    } finally {
      if (store != null) {
        store.close();
      }
      if (Files.exists(dir)) {
        deleteTree(dir);
      }
    }
  }

  /**
   * Runs warm sessions of the first strategy on the first link, nothing stale, for the given
   * time after one cold session, so that a profiler attached to this JVM sees the warm path
   * (almost) alone; prints their median time and its breakdown.
   */
  private static void profileWarm(Options options) throws Exception {
    Strategy s = options.strategies().get(0);
    Path dir = Files.createTempDirectory("pbj-publish-bench");
    List<LinkProxy> proxies = new ArrayList<>();
    try (World world = new World(options.objects(), options.stateBytes())) {
      Route route = route(world, options.links().get(0), proxies);
      int port = route.port(s);
      Clients clients = new Clients(world);
      TimedStore store = s.usesStore() ? open(dir.resolve("snapshots.db")) : null;
      try {
        clients.run(s, port, store);
        if (store != null) {
          store.flush();
        }
        world.awaitIdle();
        List<Session> warm = new ArrayList<>();
        long end = System.nanoTime() + options.profileWarmSeconds() * 1_000_000_000L;
        while (System.nanoTime() < end) {
          warm.add(clients.run(s, port, store));
          world.awaitIdle();
        }
        System.out.printf(Locale.ROOT,
            "%s, %s: %d warm sessions of %,d objects, median %.1f ms (answer %.1f, store reads"
                + " %.1f, rest %.1f), %,d bytes%n",
            route.link().name(), s.label(), warm.size(), options.objects(),
            median(warm, Session::nanos) / 1e6,
            median(warm, Session::answerNanos) / 1e6, median(warm, Session::readNanos) / 1e6,
            median(warm, Session::restNanos) / 1e6, median(warm, Session::bytes));
      } finally {
        if (store != null) {
          store.close();
        }
      }
    } finally {
      for (LinkProxy proxy : proxies) {
        proxy.close();
      }
      deleteTree(dir);
    }
  }

  private static long median(List<Session> sessions, ToLongFunction<Session> f) {
    long[] v = sessions.stream().mapToLong(f).sorted().toArray();
    return v[v.length / 2];
  }

  /** The default store: MapDB, in one file, with its default write-behind settings. */
  private static TimedStore open(Path file) {
    return new TimedStore(SnapshotStore.builder().path(file).build());
  }

  private static long flush(SnapshotStore store) {
    long t = System.nanoTime();
    store.flush();
    return System.nanoTime() - t;
  }

  private static String progressLine(Measurement m, int rep, Options options, boolean warmup) {
    return String.format(Locale.ROOT,
        "publish: %s %d/%d %-14s %-30s %5s%% stale: cold %7.1f ms %,11d B, warm %7.1f ms %,11d B,"
            + " %d hits, %d extra calls",
        warmup ? "warm-up" : "rep", warmup ? rep + 1 : rep + 1 - options.warmup(),
        warmup ? options.warmup() : options.reps(m.link()), m.link().name(), m.strategy().label(),
        Report.percent(m.stalePercent()), m.cold().nanos() / 1e6, m.cold().bytes(),
        m.warm().nanos() / 1e6, m.warm().bytes(), m.warm().hits(), m.warm().extraCalls());
  }

  static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
