package io.pbj.samples.world;

import io.pbj.PbServer;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import io.pbj.publish.RemotePublished;
import io.pbj.samples.world.WorldModel.Kind;
import io.pbj.store.SnapshotStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code world-demo}: the world sample embedded in one process, nothing to set up. A server
 * publishes a generated tile world; a client with a MapDB store in a temporary folder attaches
 * over loopback TCP and activates every object (cold); then the world goes live for a few seconds
 * ({@code --live-seconds}, {@code --live-rate} changes a second: deltas, whole states, objects
 * published and unpublished) while a second session follows it and checks that its view and its
 * store end equal to the server's; the server then changes a few objects; a last session, on a
 * new connection with the store reopened, activates everything again (warm).
 * Prints what each session cost and ends with one line:
 *
 * <pre>
 * summary objects=N cold_ms=.. warm_ms=.. cold_bytes=.. warm_bytes=.. warm_hits=.. warm_stale=.. warm_round_trips=..
 * </pre>
 *
 * <p>Exit code 0 only if the live session ended equal to the server (no mismatch), every object
 * unchanged since it came from the store, every object equals the server's, the warm session made at most one extra round trip and its bytes were at most 5% of
 * the cold session's; otherwise it says which check failed and exits 1 (2 for bad options).
 *
 * <p>Thread-safety: one instance runs one command (picocli creates it per invocation).
 */
@Command(name = "world-demo", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Publish a tile world and attach to it twice (cold, then warm) in one process.")
public final class WorldDemo implements Callable<Integer> {
  /** Most warm bytes allowed, as a fraction of cold bytes. */
  static final double WARM_BUDGET = 0.05;

  private static final Duration TIMEOUT = Duration.ofSeconds(120);

  /** The handshakes, as {@code --mode} spells them. */
  enum ModeName {
    inventory,
    versions
  }

  @Spec CommandSpec spec;

  @Option(names = "--objects", defaultValue = "10000",
      description = "Objects in the world (default ${DEFAULT-VALUE}).")
  int objects;

  @Option(names = "--changed-percent", defaultValue = "1",
      description = "Percent of the objects the server changes between the sessions (default ${DEFAULT-VALUE}).")
  double changedPercent;

  @Option(names = "--mode", defaultValue = "inventory", paramLabel = "inventory|versions",
      description = "Handshake: send the stored versions with the attach (inventory), or fetch"
          + " stale objects in one call afterwards (versions). Default ${DEFAULT-VALUE}.")
  ModeName mode;

  @Option(names = "--seed", defaultValue = "1", description = "World generator seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--live-seconds", defaultValue = "3",
      description = "Seconds of the live phase between the cold and the warm session (default"
          + " ${DEFAULT-VALUE}; 0: none).")
  int liveSeconds;

  @Option(names = "--live-rate", defaultValue = "200",
      description = "Changes a second in the live phase (default ${DEFAULT-VALUE}).")
  int liveRate;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (objects < WorldModel.MIN_OBJECTS || objects > WorldModel.MAX_OBJECTS) {
      err.println("world-demo: --objects must be " + WorldModel.MIN_OBJECTS + " to "
          + Reports.count(WorldModel.MAX_OBJECTS) + ", got " + objects);
      return 2;
    }
    if (!(changedPercent >= 0 && changedPercent <= 100)) {
      err.println("world-demo: --changed-percent must be 0 to 100, got " + changedPercent);
      return 2;
    }
    if (liveSeconds < 0 || liveSeconds > 600) {
      err.println("world-demo: --live-seconds must be 0 to 600, got " + liveSeconds);
      return 2;
    }
    if (liveRate < 1 || liveRate > WorldServer.MAX_LIVE) {
      err.println("world-demo: --live-rate must be 1 to " + Reports.count(WorldServer.MAX_LIVE)
          + ", got " + liveRate);
      return 2;
    }
    PublishedClient.Mode handshake = PublishedClient.Mode.valueOf(mode.name().toUpperCase(Locale.ROOT));

    World world = World.generate(objects, seed);
    // A key for this run only: the demo's client store is deleted at the end too.
    ServerKey key = ServerKey.generate();
    PublishingService service =
        PublishingService.builder().serverKey(key).service(WorldModel.SERVICE).build();
    world.publishTo(service);
    Semaphore disconnects = new Semaphore(0);
    Path dir = Files.createTempDirectory("pbj-world-demo-");
    Path storeFile = dir.resolve("client.db");
    boolean inPlace = ProgressBar.console();
    WorldRoot root = new WorldRoot(service.endpoint(), world, null);
    try (PbServer server = PbServer.builder()
        .address("127.0.0.1", 0)
        .registry(WorldModel.registry())
        .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
        .root(root)
        .onDisconnect((connection, cause) -> disconnects.release())
        .build()
        .start()) {
      out.println("world-demo: a world server and " + (liveSeconds > 0 ? "three" : "two")
          + " client sessions in one process, over"
          + " loopback TCP (127.0.0.1:" + server.port() + ")");
      describeWorld(out, world);
      out.println("client:  store is a MapDB file in " + dir + " (deleted at the end);"
          + " handshake " + mode + "; server id " + key.serverId() + " (proven by the server's"
          + " key in every attach)");
      out.flush();

      WorldSession.Result cold;
      try (SnapshotStore store = openStore(storeFile)) {
        cold = session(server, key.serverId(), store, handshake,
            new ProgressBar("cold", err, inPlace));
      }
      // The server forgets the first connection before the world changes, as it would between
      // two real sessions; nothing is pushed to a connection that is going away.
      if (!disconnects.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        err.println("world-demo: the server did not see the first session end");
      }

      Follow.Result live = null;
      if (liveSeconds > 0) {
        live = livePhase(server, key.serverId(), storeFile, handshake, world, service, root, out,
            err, inPlace);
        if (!disconnects.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
          err.println("world-demo: the server did not see the live session end");
        }
      }

      List<WorldObject<?>> changed =
          world.change(World.percentOf(objects, changedPercent), new Random(seed + 1));
      out.println("server:  changed " + Reports.count(changed.size()) + " objects ("
          + Reports.percent(changed.size() / (double) objects) + "): " + kinds(changed)
          + "; each republished at its version + 1");
      out.flush();

      WorldSession.Result warm;
      try (SnapshotStore store = openStore(storeFile)) {
        warm = session(server, key.serverId(), store, handshake,
            new ProgressBar("warm", err, inPlace));
      }
      out.println();
      out.println(Reports.header());
      out.println(Reports.row("cold", cold));
      out.println(Reports.row("warm", warm));
      out.println(Reports.MEASURED);
      out.println();
      out.println("walk:    " + Reports.walk(warm.attachment()));
      List<String> failures = check(out, world, changed, cold, warm);
      if (live != null && live.mismatches() > 0) {
        failures.add(0, "the live session ended with " + live.mismatches() + " objects that differ"
            + " from the server's (first: " + String.join("; ", live.examples()) + ")");
      }
      for (String f : failures) {
        out.println("FAILED:  " + f);
      }
      out.println(failures.isEmpty() ? "result:  OK" : "result:  " + failures.size() + " check(s) failed");
      out.printf(Locale.ROOT, "summary objects=%d cold_ms=%d warm_ms=%d cold_bytes=%d warm_bytes=%d"
              + " warm_hits=%d warm_stale=%d warm_round_trips=%d%n",
          warm.objects(), cold.millis(), warm.millis(), cold.bytes(), warm.bytes(), warm.hits(),
          warm.stale(), warm.roundTrips());
      out.flush();
      return failures.isEmpty() ? 0 : 1;
    } catch (ExecutionException e) {
      err.println("world-demo: " + e.getCause().getMessage());
      return 1;
    } catch (TimeoutException e) {
      err.println("world-demo: a session took longer than " + TIMEOUT.toSeconds() + " s");
      return 1;
    } finally {
      deleteRecursively(dir);
    }
  }

  /**
   * The live phase: a session attaches (warm), the world changes {@code liveRate} times a second
   * for {@code liveSeconds} while the session follows it, and the session's view and store are
   * compared with the server's digest.
   */
  private Follow.Result livePhase(PbServer server, String serverId, Path storeFile,
      PublishedClient.Mode handshake, World world, PublishingService service, WorldRoot root,
      PrintWriter out, PrintWriter err, boolean inPlace)
      throws ExecutionException, TimeoutException, InterruptedException {
    Follow.Result r;
    LiveSimulation simulation;
    try (SnapshotStore store = openStore(storeFile);
        WorldSession session = WorldSession.open("127.0.0.1", server.port(), store, serverId,
            handshake, new ProgressBar("live", err, inPlace), TIMEOUT)) {
      simulation = LiveSimulation.start(world, service, liveRate, new Random(seed + 2),
          (changed, removed) -> { });
      root.live(simulation);
      try {
        r = Follow.follow(session, store, Duration.ofSeconds(liveSeconds), err, inPlace, TIMEOUT);
      } finally {
        root.live(null);
        simulation.close();
      }
    }
    out.println("live:    " + Reports.count(simulation.changes()) + " changes in " + liveSeconds
        + " s (" + Reports.count(simulation.deltas()) + " deltas, "
        + Reports.count(simulation.wholeStates()) + " houses republished, "
        + Reports.count(simulation.published()) + " published, "
        + Reports.count(simulation.unpublished()) + " unpublished); the following session applied "
        + Reports.count(r.deltas()) + " deltas and " + Reports.count(r.fullStates())
        + " whole states, and its view and store of " + Reports.count(r.objects())
        + " objects end with " + r.mismatches() + " mismatches against the server's digest");
    out.flush();
    return r;
  }

  private static SnapshotStore openStore(Path file) {
    return SnapshotStore.builder().path(file).build();
  }

  private static WorldSession.Result session(PbServer server, String serverId, SnapshotStore store,
      PublishedClient.Mode handshake, ProgressBar bar)
      throws ExecutionException, TimeoutException, InterruptedException {
    return WorldSession.attach(
        "127.0.0.1", server.port(), store, serverId, handshake, bar, TIMEOUT);
  }

  private static void describeWorld(PrintWriter out, World world) {
    Map<Kind, Integer> counts = world.counts();
    Map<Kind, Long> bytes = world.stateBytes();
    long total = bytes.values().stream().mapToLong(Long::longValue).sum();
    List<String> parts = new ArrayList<>();
    for (Kind k : Kind.values()) {
      int n = counts.get(k);
      parts.add(Reports.count(n) + " " + k.plural + " (avg "
          + Reports.count(n == 0 ? 0 : bytes.get(k) / n) + " B)");
    }
    out.println("world:   " + Reports.count(world.size()) + " published objects, "
        + Reports.size(total) + " of state (avg " + Reports.count(total / world.size())
        + " B per object): " + String.join(", ", parts));
  }

  private static String kinds(List<WorldObject<?>> objects) {
    Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      counts.put(k, 0);
    }
    objects.forEach(o -> counts.merge(Kind.of(o.identity()), 1, Integer::sum));
    return Reports.kinds(counts);
  }

  /** The demo's checks; returns what failed, each as a sentence. */
  private static List<String> check(
      PrintWriter out,
      World world,
      List<WorldObject<?>> changed,
      WorldSession.Result cold,
      WorldSession.Result warm) {
    List<String> failures = new ArrayList<>();
    Set<String> changedIds = new HashSet<>();
    changed.forEach(o -> changedIds.add(o.identity()));
    Map<String, WorldObject<?>> objects = world.objects();
    int unchanged = objects.size() - changedIds.size();
    int unchangedHits = 0;
    int changedFresh = 0;
    int mismatched = 0;
    String firstMismatch = null;
    for (WorldObject<?> o : objects.values()) {
      RemotePublished r = warm.attachment().objects().get(o.identity());
      WorldObject.Versioned<? extends WorldState> v = o.versioned();
      WorldState s = r == null ? null : WorldModel.stateOf(r);
      if (r == null || s == null || r.version() != v.version() || !s.equals(v.state())) {
        mismatched++;
        if (firstMismatch == null) {
          firstMismatch = o.identity();
        }
        continue;
      }
      if (changedIds.contains(o.identity())) {
        changedFresh += r.fromStore() ? 0 : 1;
      } else {
        unchangedHits += r.fromStore() ? 1 : 0;
      }
    }
    if (warm.objects() != objects.size()) {
      failures.add("the warm session has " + warm.objects() + " objects, the server " + objects.size());
    }
    if (mismatched > 0) {
      failures.add(mismatched + " client objects differ from the server's state or version"
          + " (first: " + firstMismatch + ")");
    }
    if (unchangedHits != unchanged) {
      failures.add("only " + unchangedHits + " of " + unchanged
          + " unchanged objects came from the store");
    }
    if (changedFresh != changedIds.size()) {
      failures.add("only " + changedFresh + " of " + changedIds.size()
          + " changed objects came from the server");
    }
    if (warm.roundTrips() > 1) {
      failures.add("the warm session made " + warm.roundTrips() + " extra round trips (at most 1)");
    }
    double ratio = warm.bytes() / (double) Math.max(1, cold.bytes());
    if (ratio > WARM_BUDGET) {
      failures.add("warm bytes are " + Reports.percent(ratio) + " of cold (at most "
          + Reports.percent(WARM_BUDGET) + ")");
    }
    out.println("checks:  " + Reports.count(unchangedHits) + " of " + Reports.count(unchanged)
        + " unchanged objects came from the store, " + Reports.count(changedFresh) + " of "
        + Reports.count(changedIds.size()) + " changed ones from the server; "
        + Reports.count(objects.size() - mismatched) + " of " + Reports.count(objects.size())
        + " objects equal the server's state and version; warm bytes "
        + Reports.percent(ratio) + " of cold (at most " + Reports.percent(WARM_BUDGET)
        + "); extra round trips cold " + cold.roundTrips() + ", warm " + warm.roundTrips()
        + " (at most 1)");
    return failures;
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
