package io.pbj.samples;

import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import io.pbj.store.StoreStats;
import io.pbj.store.VerifyResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The snapshot store inspector: prints statistics, lists entries, verifies every checksum or
 * purges entries of a store that no other process has open. It never repairs or quarantines: a
 * damaged or foreign file is reported (exit 1, one line, no stack trace) and left as it is.
 *
 * <pre>{@code
 * java -jar samples/target/pbj-samples.jar cache-inspect --store cache/snapshots.db verify
 * java -jar samples/target/pbj-samples.jar cache-inspect --store cache/snapshots.mv \
 *     --backend mvstore list --server hub:7000 --service world --perspective guest
 * }</pre>
 *
 * <p>Exit codes: 0 success, 1 damaged, foreign or busy store, 2 usage error. One instance runs one
 * command; not thread-safe (picocli creates it per invocation).
 */
@Command(
    name = "cache-inspect",
    mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Inspect a PBJ snapshot store: stats, list, verify (every checksum) or purge.")
final class CacheInspect implements Callable<Integer> {

  /** What to do with the store. */
  enum Action {
    stats,
    list,
    verify,
    purge
  }

  /** The backend names accepted by {@code --backend}. */
  enum BackendName {
    mapdb,
    mvstore
  }

  @Spec CommandSpec spec;

  @Option(names = "--store", required = true, paramLabel = "PATH", description = "The store file.")
  Path store;

  @Option(
      names = "--backend",
      paramLabel = "mapdb|mvstore",
      description = "Store backend; detected from the file header when omitted.")
  BackendName backend;

  @Parameters(index = "0", paramLabel = "stats|list|verify|purge", description = "What to do.")
  Action action;

  @Option(names = "--server", description = "Only entries of this server (list, purge).")
  String server;

  @Option(names = "--service", description = "Only entries of this service (needs --server).")
  String service;

  @Option(
      names = "--perspective",
      description = "Only entries of this perspective (needs --server and --service).")
  String perspective;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    SnapshotPrefix prefix;
    try {
      prefix = new SnapshotPrefix(server, service, perspective);
    } catch (IllegalArgumentException e) {
      err.println("cache-inspect: " + e.getMessage().replace("SnapshotPrefix.", "--"));
      return 2;
    }
    if (!Files.isRegularFile(store)) {
      err.println("cache-inspect: no store file at " + store);
      return 1;
    }
    try {
      StoreBackend b = backend != null ? StoreBackend.valueOf(backend.name().toUpperCase()) : detect(store);
      if (b == null) {
        err.println("cache-inspect: " + store + " is not a PBJ snapshot store (unknown file header)");
        return 1;
      }
      try (SnapshotStore s =
          SnapshotStore.builder()
              .backend(b)
              .path(store)
              .quarantineDamaged(false)
              .createIfMissing(false)
              .build()) {
        return run(s, prefix, out, err);
      }
    } catch (StoreException e) {
      err.println("cache-inspect: " + e.getMessage());
      return 1;
    } catch (RuntimeException e) {
      // The store throws only StoreException for a bad file (a truncated one included); anything
      // else would be a defect in it, and still gets one line, no stack trace.
      err.println("cache-inspect: cannot read " + store + ": " + e);
      return 1;
    }
  }

  private Integer run(SnapshotStore s, SnapshotPrefix prefix, PrintWriter out, PrintWriter err) {
    switch (action) {
      case stats -> {
        StoreStats st = s.stats();
        out.println("backend:    " + st.backend());
        out.println("entries:    " + st.entries());
        out.println("bytes:      " + st.bytes());
        out.println("file bytes: " + st.fileBytes());
        return 0;
      }
      case list -> {
        List<SnapshotEntry> entries = s.list(prefix);
        out.println("server\tservice\tperspective\tidentity\tversion\tstate bytes");
        for (SnapshotEntry e : entries) {
          out.println(
              e.key().server() + '\t' + e.key().service() + '\t' + e.key().perspective() + '\t'
                  + e.key().identity() + '\t' + e.version() + '\t' + e.stateSize());
        }
        out.println(entries.size() + " entries");
        return 0;
      }
      case verify -> {
        VerifyResult r = s.verify();
        if (r.ok()) {
          out.println("OK: " + r.checked() + " entries verified in " + store);
          return 0;
        }
        err.println(
            "cache-inspect: " + store + " is damaged: " + r.damaged().size() + " of " + r.checked()
                + " entries failed verification (first: " + r.damaged().get(0) + ")");
        return 1;
      }
      case purge -> {
        List<SnapshotEntry> entries = s.list(prefix);
        for (SnapshotEntry e : entries) {
          s.remove(e.key());
        }
        s.flush();
        out.println("purged " + entries.size() + " entries");
        return 0;
      }
      default -> throw new IllegalStateException("unknown action " + action);
    }
  }

  /** The backend whose header the file starts with, or null for neither. */
  static StoreBackend detect(Path file) {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, 4);
    } catch (IOException e) {
      throw new StoreException(StoreException.Reason.IO, "cannot read " + file + ": " + e.getMessage(), e);
    }
    if (n >= 2 && head[0] == 0x4A && head[1] == 0x03) {
      return StoreBackend.MAPDB;
    }
    if (n == 4 && head[0] == 'H' && head[1] == ':' && head[2] == '2' && head[3] == ',') {
      return StoreBackend.MVSTORE;
    }
    return null;
  }
}
