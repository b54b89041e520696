package io.pbj.samples.world;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.publish.PublishException;
import io.pbj.publish.PublishedClient;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code world-client --port P --store DIR}: one session against a {@link WorldServer}: attaches
 * with the snapshot store in DIR ({@value #FILE}, kept across runs), activates every object,
 * prints what it cost and a walk through the client's copy of the world, and ends with one line:
 *
 * <pre>
 * summary objects=N ms=.. bytes=.. hits=.. stale=.. round_trips=..
 * </pre>
 *
 * <p>{@code ms} and {@code bytes} run from just before the attach call until every object is
 * activated (bytes sent + received on the wire); {@code hits} came from the store, {@code stale}
 * from the server (inlined + fetched), {@code round_trips} are calls beyond the attach. Exit
 * codes: 0 attached, 1 failed (unreachable server, other server id, a server that does not prove
 * its id, store in use), 2 bad options. The server's id is always proven ({@code PublishedClient}
 * refuses one that is not), so an impostor that claims a world server's id gets nothing from this
 * client's cache and puts nothing into it.
 *
 * <p>{@code --follow SECONDS} then stays attached that long to a live server ({@code world-server
 * --live N}), shows a live line on stderr (updates a second, objects published and unpublished),
 * compares its whole view (every object's state and version) and its store entries with the
 * server's digest (taken while the server's simulation pauses, once the client has caught up
 * with it) and prints, last:
 *
 * <pre>
 * follow seconds=S objects=N published=P unpublished=U deltas=D full_states=F mismatches=M
 * </pre>
 *
 * <p>{@code deltas} and {@code full_states} count what the client's objects applied: deltas
 * (a tile, a move) and whole states (a house republished, or a whole state fetched after a gap);
 * {@code mismatches} counts objects whose state, version or store entry differs from the
 * server's, or that one side has and the other not; the exit code is 1 unless it is 0.
 *
 * <p>{@code --server HOST:PORT,...} names the members of an origin cluster ({@code world-server
 * --cluster}) instead: the client attaches to the first it reaches and, when that member dies,
 * dials the next and re-attaches from its store, printing for each re-attach:
 *
 * <pre>
 * reattach n=1 at=HOST:PORT objects=N ms=.. bytes=.. hits=.. unchanged=.. missed=.. stale=..
 *     round_trips=..
 * </pre>
 *
 * <p>where {@code unchanged} counts the objects whose version is the one the store held just
 * before (of those not updated again before the attach ended), and {@code missed} those of them
 * that came from the member rather than the store: 0 when the members serve the same versions.
 *
 * <p>Thread-safety: one instance runs one command (picocli creates it per invocation).
 */
@Command(name = "world-client", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Attach to a world server once, with a persistent store, and report.")
public final class WorldClient implements Callable<Integer> {
  /** The store file inside the {@code --store} folder. */
  static final String FILE = "client.db";

  @Spec CommandSpec spec;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", description = "Server TCP port (or --server).")
  Integer port;

  @Option(names = "--server", split = ",", paramLabel = "HOST:PORT",
      description = "Instead of --host and --port: the members of an origin cluster (world-server"
          + " --cluster), comma-separated or repeated. The client attaches to the first it"
          + " reaches; when its member dies it dials the next and re-attaches from its store"
          + " (printing a reattach line: hits, and objects unchanged since it last had them).")
  List<String> servers = new ArrayList<>();

  @Option(names = "--store", required = true, paramLabel = "DIR",
      description = "Folder of the client's snapshot store (created if missing).")
  Path store;

  @Option(names = "--server-id",
      description = "The server id expected (world-server prints it); the server must prove it"
          + " holds the id's key. Without it the client cannot list its inventory and uses the"
          + " versions handshake (the server still proves the id it names, and the cache is"
          + " kept under it).")
  String serverId;

  @Option(names = "--mode", paramLabel = "inventory|versions",
      description = "Handshake (default: inventory with --server-id, else versions).")
  WorldDemo.ModeName mode;

  @Option(names = "--timeout", defaultValue = "60", description = "Seconds to wait at most (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Option(names = "--follow", defaultValue = "0", paramLabel = "SECONDS",
      description = "Stay attached this long, then compare the view and the store with the"
          + " server's digest (default ${DEFAULT-VALUE}: attach once and leave).")
  int followSeconds;

  /** Longest {@code --follow}. */
  static final int MAX_FOLLOW = 86_400;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (mode == null) {
      mode = serverId != null ? WorldDemo.ModeName.inventory : WorldDemo.ModeName.versions;
    } else if (mode == WorldDemo.ModeName.inventory && serverId == null) {
      err.println("world-client: the inventory handshake needs --server-id (world-server prints"
          + " it), or use --mode versions");
      return 2;
    }
    if (followSeconds < 0 || followSeconds > MAX_FOLLOW) {
      err.println("world-client: --follow must be 0 to " + Reports.count(MAX_FOLLOW)
          + " seconds, got " + followSeconds);
      return 2;
    }
    List<InetSocketAddress> members = new ArrayList<>();
    if (!servers.isEmpty()) {
      if (port != null || spec.commandLine().getParseResult().hasMatchedOption("--host")) {
        err.println("world-client: give either --server HOST:PORT,... or --host and --port");
        return 2;
      }
      try {
        for (String s : servers) {
          members.add(PbClient.parseAddress(s));
        }
      } catch (IllegalArgumentException e) {
        err.println("world-client: --server: " + e.getMessage());
        return 2;
      }
      if (members.size() > PbClient.MAX_ADDRESSES) {
        err.println("world-client: --server takes at most " + PbClient.MAX_ADDRESSES
            + " addresses, got " + members.size());
        return 2;
      }
    } else if (port == null) {
      err.println("world-client: give --port (and --host), or --server HOST:PORT,...");
      return 2;
    }
    PublishedClient.Mode handshake = PublishedClient.Mode.valueOf(mode.name().toUpperCase(Locale.ROOT));
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    ProgressBar bar = new ProgressBar("sync", err, ProgressBar.console());
    try (SnapshotStore snapshots = SnapshotStore.builder().path(store.resolve(FILE)).build();
        WorldSession session = members.isEmpty()
            ? WorldSession.open(host, port, snapshots, serverId, handshake, bar, timeout)
            : WorldSession.open(members, snapshots, serverId, handshake, bar, timeout, r -> {
                out.println(r.line());
                out.flush();
              })) {
      report(out, session.result());
      if (followSeconds == 0) {
        return 0;
      }
      Follow.Result f = Follow.follow(session, snapshots, Duration.ofSeconds(followSeconds), err,
          ProgressBar.console(), timeout);
      if (!f.caughtUp()) {
        out.println("follow:  the view did not reach the server's digest within " + timeoutSeconds
            + " s");
      }
      for (String m : f.examples()) {
        out.println("MISMATCH: " + m);
      }
      out.println(f.line());
      out.flush();
      return f.mismatches() == 0 ? 0 : 1;
    } catch (StoreException e) {
      err.println("world-client: " + e.getMessage());
      return 1;
    } catch (ExecutionException e) {
      String hint = e.getCause() instanceof PublishException p
              && p.code() == PbException.Code.SERVER_ID_MISMATCH
          ? " (pass the server's id with --server-id)" : "";
      err.println("world-client: " + e.getCause().getMessage() + hint);
      return 1;
    } catch (TimeoutException e) {
      err.println("world-client: no answer from " + where() + " within " + timeoutSeconds + " s");
      return 1;
    }
  }

  private String where() {
    return servers.isEmpty() ? host + ":" + port : String.join(",", servers);
  }

  private void report(PrintWriter out, WorldSession.Result r) {
    out.println("world-client: attached to " + r.attachment().serverId() + " at " + where()
        + " (" + Reports.kinds(r.counts()) + "); store " + store.resolve(FILE) + "; handshake " + mode);
    out.println(Reports.header());
    out.println(Reports.row("attach", r));
    out.println(Reports.MEASURED);
    out.println("walk:    " + Reports.walk(r.attachment()));
    out.printf(Locale.ROOT, "summary objects=%d ms=%d bytes=%d hits=%d stale=%d round_trips=%d%n",
        r.objects(), r.millis(), r.bytes(), r.hits(), r.stale(), r.roundTrips());
    out.flush();
  }
}
