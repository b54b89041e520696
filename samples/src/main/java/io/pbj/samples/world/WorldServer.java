package io.pbj.samples.world;

import com.hazelcast.core.HazelcastInstance;
import io.pbj.PbServer;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import io.pbj.store.StoreException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code world-server --port P --store DIR}: serves the tile world over TCP until killed.
 *
 * <p>The world lives in DIR ({@value WorldArchive#FILE}): the first start makes one ({@code
 * --objects}, {@code --seed}) and saves every object's state and version; later starts serve
 * the saved world, at the same versions, so clients that cached it get only hits. {@code
 * --change-percent X} changes X% of the objects at start-up (each version goes up by one, saved
 * before the server listens), so their clients' copies are stale.
 *
 * <p>The server id is proven: a new world gets a new server key ({@value #KEY_FILE} in DIR, made
 * before the world is saved, readable by its owner only), the id is derived from it and saved
 * with the world, and every attach answer proves it, so a client that expects this id never
 * takes another server's world for this one. Later starts read the key; a folder whose key is
 * missing or is not the one its world was saved under is refused (exit 1).
 *
 * <p>{@code --live N} makes the world live ({@link LiveSimulation}): N changes a second, mostly
 * deltas (a chunk's tile, an item's move), some houses republished whole, and about 3% houses and
 * items published or unpublished, each tick announced as one batch; the changes are saved to
 * DIR as they happen (every second, and at a clean stop), so a restart keeps clients' caches
 * valid. The root ({@link WorldRoot}) also answers the server's digest of its world, for {@code
 * world-client --follow}.
 *
 * <p>{@code --cluster NAME --members HOST:PORT,... --key FILE} serves as a member of an origin
 * cluster instead ({@link ClusterWorld}): an embedded Hazelcast member holds the world, the first
 * member loads a new one, every member (all with the same key file) serves it under one proven
 * server id, and {@code --live N} runs on the oldest member, writing through the cluster, so it
 * goes on when a member dies. No {@code --store}: the world lives as long as one member does.
 *
 * <p>Prints {@code world-server listening on port P (server id ID, N objects)} once it accepts
 * connections. Exit codes: 1 when the folder cannot be used (another server has it, damaged),
 * 2 for bad options.
 *
 * <p>Thread-safety: one instance runs one command (picocli creates it per invocation).
 */
@Command(name = "world-server", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Serve the tile world, kept in a folder across restarts, until killed.")
public final class WorldServer implements Callable<Integer> {
  /** The server key file inside the {@code --store} folder. */
  static final String KEY_FILE = "server-key.pem";

  @Spec CommandSpec spec;

  @Option(names = "--port", required = true, description = "TCP port to listen on (0: any free port).")
  int port;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--store", paramLabel = "DIR",
      description = "Folder holding the server's world (created if missing); required without"
          + " --cluster, not taken with it (a cluster keeps its world in Hazelcast).")
  Path store;

  @Option(names = "--cluster", paramLabel = "NAME",
      description = "Serve as a member of the origin cluster NAME: an embedded Hazelcast member"
          + " (TCP/IP join, no multicast) whose map holds the world; the first member loads a new"
          + " world (--objects, --seed), every member serves it under one server id, and clients"
          + " given several members fail over between them with their caches valid.")
  String cluster;

  @Option(names = "--members", split = ",", paramLabel = "HOST:PORT",
      description = "With --cluster: Hazelcast addresses of the members to join (this one may be"
          + " among them), comma-separated or repeated.")
  List<String> members = new ArrayList<>();

  @Option(names = "--hz-port", defaultValue = "5701",
      description = "With --cluster: this member's Hazelcast port (default ${DEFAULT-VALUE}).")
  int hzPort;

  @Option(names = "--key", paramLabel = "FILE",
      description = "With --cluster (required): the cluster's server key (PEM), created if"
          + " missing. Every member must use the same key file (copy it, keep it private): the"
          + " key proves the one server id the whole cluster serves under.")
  Path keyFile;

  @Option(names = "--advertise", paramLabel = "HOST",
      description = "With --cluster: the host clients reach this member at (default: --host,"
          + " or this member's Hazelcast address when --host is 0.0.0.0).")
  String advertise;

  @Option(names = "--objects", defaultValue = "10000",
      description = "Objects in a new world (default ${DEFAULT-VALUE}); ignored when DIR holds one.")
  int objects;

  @Option(names = "--seed", defaultValue = "1",
      description = "Generator seed of a new world (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--change-percent", defaultValue = "0",
      description = "Percent of the objects to change at start-up (default ${DEFAULT-VALUE}).")
  double changePercent;

  @Option(names = "--live", defaultValue = "0", paramLabel = "N",
      description = "Changes a second while serving (default ${DEFAULT-VALUE}: none): chunk tiles"
          + " and item moves as deltas, houses whole, houses and items published and unpublished.")
  int live;

  /** Most changes a second {@code --live} takes. */
  static final int MAX_LIVE = 100_000;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (objects < WorldModel.MIN_OBJECTS || objects > WorldModel.MAX_OBJECTS) {
      err.println("world-server: --objects must be " + WorldModel.MIN_OBJECTS + " to "
          + Reports.count(WorldModel.MAX_OBJECTS) + ", got " + objects);
      return 2;
    }
    if (!(changePercent >= 0 && changePercent <= 100)) {
      err.println("world-server: --change-percent must be 0 to 100, got " + changePercent);
      return 2;
    }
    if (live < 0 || live > MAX_LIVE) {
      err.println("world-server: --live must be 0 to " + Reports.count(MAX_LIVE) + ", got " + live);
      return 2;
    }
    if (cluster != null) {
      return serveCluster(out, err);
    }
    if (store == null) {
      err.println("world-server: --store DIR is required (or --cluster NAME to serve as a member"
          + " of an origin cluster)");
      return 2;
    }
    for (String clusterOnly : List.of("--members", "--hz-port", "--key", "--advertise")) {
      if (spec.commandLine().getParseResult().hasMatchedOption(clusterOnly)) {
        err.println("world-server: " + clusterOnly + " is an option of --cluster");
        return 2;
      }
    }
    WorldArchive archive;
    try {
      archive = WorldArchive.open(store);
    } catch (StoreException e) {
      err.println("world-server: " + e.getMessage());
      return 1;
    }
    PbServer server;
    try {
      Optional<WorldArchive.Saved> saved = archive.load();
      Path keyFile = store.resolve(KEY_FILE);
      ServerKey key;
      World world;
      if (saved.isPresent()) {
        String savedId = saved.get().serverId();
        key = Files.exists(keyFile) ? ServerKey.read(keyFile) : null;
        if (key == null || !key.serverId().equals(savedId)) {
          err.println("world-server: " + store + " holds the world of server id " + savedId
              + ", but " + (key == null ? "there is no " + KEY_FILE + " to prove it"
                  : keyFile + " is the key of server id " + key.serverId())
              + "; a server id names one world: restore its key, or move the folder away to"
              + " make a new world");
          archive.close();
          return 1;
        }
        world = saved.get().world();
        if (saved.get().lostSave()) {
          out.println("world-server: the live world was not stopped cleanly and may have lost its"
              + " last changes: every version moves on, so clients refetch rather than keep a"
              + " change this world no longer has");
        }
        boolean objectsGiven = spec.commandLine().getParseResult().hasMatchedOption("--objects");
        out.println("world-server: serving the saved world of " + store + ": "
            + Reports.kinds(world.counts())
            + (objectsGiven && objects != world.size() ? " (--objects is for a new world)" : ""));
      } else {
        // A new world is a new server: a new key, so that no client takes it for an old world
        // once made in this folder (a key left without its world is moved aside, not reused).
        if (Files.exists(keyFile)) {
          Files.move(keyFile, store.resolve(KEY_FILE + ".previous"),
              StandardCopyOption.REPLACE_EXISTING);
        }
        key = ServerKey.readOrCreate(keyFile);
        world = World.generate(objects, seed);
        archive.saveWorld(key.serverId(), world);
        out.println("world-server: made a new world in " + store + ": " + Reports.kinds(world.counts()));
      }
      if (changePercent > 0) {
        List<WorldObject<?>> changed =
            world.change(World.percentOf(world.size(), changePercent), new Random());
        archive.save(changed);
        out.println("world-server: changed " + Reports.count(changed.size()) + " objects ("
            + Reports.percent(changed.size() / (double) world.size())
            + "), each saved at its version + 1");
      }
      String id = key.serverId();
      PublishingService service =
          PublishingService.builder().serverKey(key).service(WorldModel.SERVICE).build();
      world.publishTo(service);
      LiveSimulation simulation = null;
      if (live > 0) {
        World w = world;
        // Marked not clean before any change can reach a client: see WorldArchive.
        archive.saveLive(id, w, List.of(), List.of(), false);
        simulation = LiveSimulation.start(world, service, live, new Random(), (changed, removed) -> {
          try {
            archive.saveLive(id, w, changed, removed, false);
          } catch (RuntimeException e) {
            err.println("world-server: could not save the live world: " + e.getMessage());
            err.flush();
          }
        });
      }
      LiveSimulation sim = simulation;
      server = PbServer.builder()
          .address(host, port)
          .registry(WorldModel.registry())
          .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
          // whole worlds go out; only inventories and identity lists come in
          .maxIncomingMessageSize(WorldModel.MAX_REQUEST_BYTES)
          .root(new WorldRoot(service.endpoint(), world, sim))
          .build()
          .start();
      World w = world;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        if (sim != null) {
          sim.close();    // saves what changed since the last save
          archive.saveLive(id, w, List.of(), List.of(), true);
        }
        server.close();
        archive.close();
      }, "world-server-shutdown"));
      if (live > 0) {
        out.println("world-server: live: " + Reports.count(live) + " changes a second, "
            + LiveSimulation.TICKS_PER_SECOND + " ticks a second (deltas to chunk tiles and item"
            + " places, houses republished, houses and items published and unpublished)");
      }
      out.println("world-server listening on port " + server.port() + " (server id " + id + ", "
          + world.size() + " objects)");
      out.flush();
    } catch (RuntimeException | IOException e) {
      archive.close();
      err.println("world-server: " + e.getMessage());
      return 1;
    }
    new CountDownLatch(1).await();
    return 0;
  }

  /** {@code --cluster}: serves as a member of an origin cluster until killed. */
  private Integer serveCluster(PrintWriter out, PrintWriter err) throws InterruptedException {
    String problem = null;
    if (store != null) {
      problem = "--store is not taken with --cluster: the cluster keeps its world in Hazelcast";
    } else if (changePercent != 0) {
      problem = "--change-percent is not taken with --cluster";
    } else if (keyFile == null) {
      problem = "--cluster needs --key FILE, the same key file on every member";
    } else if (members.isEmpty()) {
      problem = "--cluster needs --members HOST:PORT,... (the Hazelcast members to join)";
    } else if (hzPort < 1 || hzPort > 65535) {
      problem = "--hz-port must be 1 to 65535, got " + hzPort;
    } else {
      for (String m : members) {
        if (!m.matches("[^:\\s]+:\\d{1,5}")) {
          problem = "--members takes HOST:PORT, got '" + m + "'";
          break;
        }
      }
    }
    if (problem != null) {
      err.println("world-server: " + problem);
      return 2;
    }
    ServerKey key;
    try {
      key = ServerKey.readOrCreate(keyFile);
    } catch (RuntimeException e) {
      err.println("world-server: cannot use the key " + keyFile + ": " + e.getMessage());
      return 1;
    }
    String bind = "0.0.0.0".equals(host) ? null : host;
    HazelcastInstance hazelcast;
    try {
      hazelcast = ClusterWorld.startHazelcast(cluster, bind, hzPort, members);
    } catch (RuntimeException e) {
      err.println("world-server: cannot start the Hazelcast member: " + e.getMessage());
      return 1;
    }
    ClusterWorld world = null;
    PbServer server = null;
    try {
      world = ClusterWorld.join(hazelcast, key, notice -> {
        out.println("world-server: " + notice);
        out.flush();
      });
      if (world.size() == 0) {
        World generated = World.generate(objects, seed);
        if (world.loadIfEmpty(generated)) {
          out.println("world-server: loaded a new world into cluster " + cluster + ": "
              + Reports.kinds(generated.counts()));
        }
      } else {
        out.println("world-server: joined cluster " + cluster + ", serving its world of "
            + Reports.count(world.size()) + " objects");
      }
      server = PbServer.builder()
          .address(host, port)
          .registry(WorldModel.registry())
          .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
          .maxIncomingMessageSize(WorldModel.MAX_REQUEST_BYTES)
          .root(new WorldRoot(world))
          .build()
          .start();
      String reachAt = advertise != null ? advertise
          : bind != null ? bind : hazelcast.getCluster().getLocalMember().getAddress().getHost();
      world.advertise(reachAt, server.port());
      LiveSimulation sim = null;
      if (live > 0) {
        world.goingLive();
        ClusterWorld w = world;
        sim = LiveSimulation.start(
            world.world(), world, w::mayTick, live, new Random(), (changed, removed) -> {});
        out.println("world-server: live: " + Reports.count(live) + " changes a second, written"
            + " to the cluster by its oldest member");
      }
      LiveSimulation s = sim;
      ClusterWorld w = world;
      PbServer pb = server;
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        if (s != null) {
          s.close();
        }
        pb.close();
        w.close();
        hazelcast.shutdown();
      }, "world-server-shutdown"));
      out.println("world-server: member of cluster " + cluster + ", reached at " + reachAt + ":"
          + server.port() + ", Hazelcast port " + hzPort);
      out.println("world-server listening on port " + server.port() + " (server id "
          + world.serverId() + ", " + world.size() + " objects)");
      out.flush();
    } catch (RuntimeException e) {
      if (server != null) {
        server.close();
      }
      if (world != null) {
        world.close();
      }
      hazelcast.shutdown();
      err.println("world-server: " + e.getMessage());
      return 1;
    }
    new CountDownLatch(1).await();
    return 0;
  }
}
