package io.pbj.samples.world;

import io.pbj.PbServer;
import io.pbj.publish.PublishingService;
import io.pbj.store.StoreException;
import java.io.PrintWriter;
import java.nio.file.Path;
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
 * before the server listens), so their clients' copies are stale. The server id is saved with
 * the world: a folder holds the world of one server id, and a start with another {@code
 * --server-id} is refused.
 *
 * <p>Prints {@code world-server listening on port P (server id ID, N objects)} once it accepts
 * connections. Exit codes: 1 when the folder cannot be used (another server has it, damaged),
 * 2 for bad options.
 *
 * <p>Thread-safety: one instance runs one command (picocli creates it per invocation).
 */
@Command(name = "world-server", mixinStandardHelpOptions = true,
    description = "Serve the tile world, kept in a folder across restarts, until killed.")
public final class WorldServer implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--port", required = true, description = "TCP port to listen on (0: any free port).")
  int port;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--store", required = true, paramLabel = "DIR",
      description = "Folder holding the server's world (created if missing).")
  Path store;

  @Option(names = "--server-id",
      description = "The origin id clients key their caches by. Default: the id saved with the"
          + " world in DIR, or a new random world-XXXXXXXX for a new world (an id names one"
          + " world: never give a new world the id of another).")
  String serverId;

  @Option(names = "--objects", defaultValue = "10000",
      description = "Objects in a new world (default ${DEFAULT-VALUE}); ignored when DIR holds one.")
  int objects;

  @Option(names = "--seed", defaultValue = "1",
      description = "Generator seed of a new world (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--change-percent", defaultValue = "0",
      description = "Percent of the objects to change at start-up (default ${DEFAULT-VALUE}).")
  double changePercent;

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
      String id;
      World world;
      if (saved.isPresent()) {
        id = saved.get().serverId();
        if (serverId != null && !serverId.equals(id)) {
          err.println("world-server: " + store + " holds the world of server id " + id
              + "; a server id names one world: use --server-id " + id + " or another --store");
          archive.close();
          return 2;
        }
        world = saved.get().world();
        boolean objectsGiven = spec.commandLine().getParseResult().hasMatchedOption("--objects");
        out.println("world-server: serving the saved world of " + store + ": "
            + Reports.kinds(world.counts())
            + (objectsGiven && objects != world.size() ? " (--objects is for a new world)" : ""));
      } else {
        id = serverId != null ? serverId : WorldModel.newServerId();
        world = World.generate(objects, seed);
        archive.saveWorld(id, world.objects().values());
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
      PublishingService service =
          PublishingService.builder().serverId(id).service(WorldModel.SERVICE).build();
      world.publishTo(service);
      server = PbServer.builder()
          .address(host, port)
          .registry(WorldModel.registry())
          .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
          .rootFactory(service::endpoint)
          .build()
          .start();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        server.close();
        archive.close();
      }, "world-server-shutdown"));
      out.println("world-server listening on port " + server.port() + " (server id " + id + ", "
          + world.size() + " objects)");
      out.flush();
    } catch (RuntimeException e) {
      archive.close();
      err.println("world-server: " + e.getMessage());
      return 1;
    }
    new CountDownLatch(1).await();
    return 0;
  }
}
