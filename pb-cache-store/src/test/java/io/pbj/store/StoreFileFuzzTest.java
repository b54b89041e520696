package io.pbj.store;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jazzer target: any bytes as a whole MVStore store file. Opening it and reading everything the
 * way a client attaches either serves entries or quarantines the file, never throws, and the
 * next session opens cleanly (the client is never stranded). MVStore only: a MapDB file is at
 * least 1 MiB (it preallocates), too big to mutate usefully; {@code DamageLoopTest} covers it.
 *
 * <p>Seeds (small real store files, written by {@code FuzzSeedWriter}) are in
 * {@code src/test/resources/io/pbj/store/StoreFileFuzzTestInputs/anyMvStoreFileServesOrIsQuarantined/}.
 * Each execution writes, opens and closes a file, so this target runs hundreds of times slower
 * than the codec targets; see docs/FUZZING.md. Not thread-safe; Jazzer runs it on one thread.
 */
class StoreFileFuzzTest {
  @TempDir static Path dir;

  @FuzzTest(maxDuration = "30s")
  void anyMvStoreFileServesOrIsQuarantined(byte[] file) throws IOException {
    clear(dir);
    Path path = dir.resolve("fuzzed.mv");
    Files.write(path, file);
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(path).build()) {
      attach(s);
      s.verify();
      SnapshotKey probe = new SnapshotKey("fuzz", "probe", "p", "k");
      Snapshot put = Snapshot.of(1, 1, new byte[] {1, 2, 3});
      s.put(probe, put);
      if (!s.get(probe).map(put::equals).orElse(false)) {
        throw new AssertionError("a put did not read back after opening the fuzzed file");
      }
    }
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(path).build()) {
      attach(s);
      if (s.stats().quarantines() != 0) {
        throw new AssertionError("the session after the fuzzed one had to quarantine again");
      }
    }
  }

  private static void attach(SnapshotStore s) {
    List<SnapshotKey> keys = new ArrayList<>();
    for (SnapshotEntry e : s.list(SnapshotPrefix.all())) {
      keys.add(e.key());
      s.get(e.key());
    }
    s.getAll(keys);
  }

  private static void clear(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.delete(p);
      }
    }
  }
}
