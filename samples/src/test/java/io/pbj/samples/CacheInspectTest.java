package io.pbj.samples;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import picocli.CommandLine;

class CacheInspectTest {
  @TempDir Path dir;

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = new CommandLine(new CacheInspect());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  private static final byte[] MARKER = "INSPECT-MARKER-42".getBytes(StandardCharsets.US_ASCII);

  private Path storeWith(StoreBackend b, int perspectives) {
    Path file = dir.resolve(b == StoreBackend.MAPDB ? "s.db" : "s.mv");
    try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
      for (int p = 0; p < perspectives; p++) {
        for (int i = 0; i < 3; i++) {
          byte[] state = new byte[200];
          System.arraycopy(MARKER, 0, state, 50, MARKER.length);
          state[0] = (byte) i;
          s.put(new SnapshotKey("hub:7000", "world", "p" + p, "obj-" + i), Snapshot.of(10 + i, 1, state));
        }
      }
    }
    return file;
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void statsShowsTheBackendAndEntryCount(StoreBackend b) {
    Path file = storeWith(b, 2);
    assertThat(run("--store", file.toString(), "stats")).isZero();
    assertThat(out.toString()).contains("backend:    " + b).contains("entries:    6");
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void listFiltersByPrefix(StoreBackend b) {
    Path file = storeWith(b, 2);
    assertThat(run("--store", file.toString(), "--backend", b.name().toLowerCase(), "list",
        "--server", "hub:7000", "--service", "world", "--perspective", "p1")).isZero();
    assertThat(out.toString().lines().toList())
        .contains("hub:7000\tworld\tp1\tobj-2\t12\t200", "3 entries")
        .noneMatch(l -> l.contains("\tp0\t"));
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void verifyPassesOnAHealthyStore(StoreBackend b) {
    Path file = storeWith(b, 1);
    assertThat(run("--store", file.toString(), "verify")).isZero();
    assertThat(out.toString()).startsWith("OK: 3 entries verified");
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void verifyFailsOnAFlippedByteWithOneLine(StoreBackend b) throws Exception {
    Path file = storeWith(b, 1);
    byte[] all = Files.readAllBytes(file);
    int flipped = 0;
    for (int i = 0; i + MARKER.length <= all.length && flipped == 0; i++) {
      if (java.util.Arrays.equals(all, i, i + MARKER.length, MARKER, 0, MARKER.length)) {
        all[i + 3] ^= 0x20;
        flipped++;
      }
    }
    assertThat(flipped).isEqualTo(1);
    Files.write(file, all);
    assertThat(run("--store", file.toString(), "verify")).isEqualTo(1);
    assertThat(err.toString().lines().toList())
        .singleElement()
        .asString()
        .contains("is damaged: 1 of 3 entries failed verification")
        .doesNotContain("Exception");
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void verifyReportsAStoreTruncatedToHalfAsDamagedNotAsAnEmptyStore(StoreBackend b) throws Exception {
    Path file = storeWith(b, 40);
    long size = Files.size(file);
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(size / 2);
    }
    assertThat(run("--store", file.toString(), "verify")).isEqualTo(1);
    assertThat(out.toString()).doesNotContain("OK");
    assertThat(err.toString().lines().toList())
        .singleElement()
        .asString()
        .startsWith("cache-inspect: ")
        .contains("truncated")
        .contains(Long.toString(size / 2))
        .doesNotContain("Exception");
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("damaged"));
    }
  }

  @Test
  void verifyRefusesANonStoreFileWithOneLineAndLeavesItAlone() throws Exception {
    Path file = dir.resolve("notes.txt");
    Files.writeString(file, "hello, not a store");
    assertThat(run("--store", file.toString(), "verify")).isEqualTo(1);
    assertThat(err.toString().lines().toList())
        .singleElement()
        .asString()
        .contains("is not a PBJ snapshot store");
    assertThat(Files.readString(file)).isEqualTo("hello, not a store");
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("damaged"));
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void verifyRefusesAGarbageFileWithTheForcedBackend(StoreBackend b) throws Exception {
    Path file = dir.resolve("garbage");
    Files.write(file, new byte[4096]);
    assertThat(run("--store", file.toString(), "--backend", b.name().toLowerCase(), "verify")).isEqualTo(1);
    assertThat(err.toString().lines().toList())
        .singleElement()
        .asString()
        .startsWith("cache-inspect: ")
        .contains("is damaged or not a store");
    assertThat(Files.readAllBytes(file)).hasSize(4096);
  }

  @Test
  void aMissingFileIsReportedAndNotCreated() {
    Path file = dir.resolve("nothing.db");
    assertThat(run("--store", file.toString(), "stats")).isEqualTo(1);
    assertThat(err.toString()).contains("no store file at");
    assertThat(Files.exists(file)).isFalse();
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void purgeRemovesOnlyThePrefix(StoreBackend b) {
    Path file = storeWith(b, 2);
    assertThat(run("--store", file.toString(), "purge", "--server", "hub:7000", "--service", "world",
        "--perspective", "p0")).isZero();
    assertThat(out.toString()).contains("purged 3 entries");
    try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
      assertThat(s.size()).isEqualTo(3);
    }
  }

  @Test
  void aPerspectiveWithoutAServiceIsAUsageError() {
    Path file = storeWith(StoreBackend.MAPDB, 1);
    assertThat(run("--store", file.toString(), "list", "--server", "h", "--perspective", "p")).isEqualTo(2);
    assertThat(err.toString()).contains("--perspective is set but service is not");
  }

  @Test
  void aStoreInUseIsReportedInOneLine() {
    Path file = storeWith(StoreBackend.MAPDB, 1);
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      assertThat(run("--store", file.toString(), "stats")).isEqualTo(1);
      assertThat(err.toString().lines().toList()).singleElement().asString().contains("is in use");
      assertThat(s.size()).isEqualTo(3);
    }
  }

  @Test
  void anUnknownActionIsAUsageError() {
    assertThat(run("--store", "x", "frobnicate")).isEqualTo(2);
    assertThat(List.of(err.toString())).singleElement().asString().contains("frobnicate");
  }
}
