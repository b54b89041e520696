package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** What the disk backends do with damaged files, foreign files and a second owner. */
class DiskStoreIntegrityTest {
  @TempDir Path dir;

  private static final byte[] MARKER = "MARKER-0123456789-MARKER".getBytes(StandardCharsets.US_ASCII);

  private Path file(StoreBackend b) {
    return dir.resolve(b == StoreBackend.MAPDB ? "snapshots.db" : "snapshots.mv");
  }

  private SnapshotStore open(StoreBackend b) {
    return SnapshotStore.builder().backend(b).path(file(b)).build();
  }

  private List<Path> quarantined() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".damaged-")).toList();
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aFlippedByteInAValueIsAMissNotGarbage(StoreBackend b) throws IOException {
    SnapshotKey damaged = AbstractSnapshotStoreTest.key("damaged");
    SnapshotKey intact = AbstractSnapshotStoreTest.key("intact");
    byte[] state = new byte[600];
    System.arraycopy(MARKER, 0, state, 300, MARKER.length);
    try (SnapshotStore s = open(b)) {
      s.put(damaged, Snapshot.of(1, 1, state));
      s.put(intact, Snapshot.of(1, 1, new byte[600]));
      for (int i = 0; i < 20; i++) {
        s.put(AbstractSnapshotStoreTest.key("fill-" + i), Snapshot.of(1, 1, new byte[10]));
      }
    }
    int flipped = flipEveryMarker(file(b));
    assertThat(flipped).as("marker occurrences in %s", file(b)).isPositive();

    try (SnapshotStore s = open(b)) {
      List<SnapshotKey> many = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        many.add(AbstractSnapshotStoreTest.key("fill-" + i));
      }
      many.add(damaged);
      many.add(intact);
      assertThat(s.getAll(many)).as("a scan skips the damaged entry")
          .hasSize(21).doesNotContainKey(damaged).containsKey(intact);
      assertThat(s.get(damaged)).isEmpty();
      assertThat(s.get(intact)).isPresent();
      assertThat(s.stats().checksumFailures()).isEqualTo(1);
    }
    try (SnapshotStore s = open(b)) {
      // The damaged entry was removed when it was found; the store is clean again.
      assertThat(s.verify().ok()).isTrue();
      assertThat(s.size()).isEqualTo(21);
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void verifyReportsAFlippedByte(StoreBackend b) throws IOException {
    byte[] state = new byte[600];
    System.arraycopy(MARKER, 0, state, 100, MARKER.length);
    try (SnapshotStore s = open(b)) {
      s.put(AbstractSnapshotStoreTest.key("x"), Snapshot.of(1, 1, state));
    }
    flipEveryMarker(file(b));
    try (SnapshotStore s = open(b)) {
      VerifyResult r = s.verify();
      assertThat(r.ok()).isFalse();
      assertThat(r.damaged()).singleElement().asString().contains("checksum");
    }
  }

  private static int flipEveryMarker(Path file) throws IOException {
    byte[] all = Files.readAllBytes(file);
    int n = 0;
    for (int i = 0; i + MARKER.length <= all.length; i++) {
      boolean match = true;
      for (int j = 0; j < MARKER.length && match; j++) {
        match = all[i + j] == MARKER[j];
      }
      if (match) {
        all[i + 10] ^= 0x01;
        n++;
      }
    }
    Files.write(file, all);
    return n;
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aGarbageFileIsQuarantinedAndTheStoreOpensEmpty(StoreBackend b) throws IOException {
    byte[] garbage = new byte[64 * 1024];
    new Random(7).nextBytes(garbage);
    Files.write(file(b), garbage);
    try (SnapshotStore s = open(b)) {
      assertThat(s.size()).isZero();
      SnapshotKey k = AbstractSnapshotStoreTest.key("after");
      s.put(k, Snapshot.of(1, 1, new byte[] {9}));
      s.flush();
      assertThat(s.get(k)).isPresent();
    }
    List<Path> aside = quarantined();
    assertThat(aside).isNotEmpty();
    Path main = aside.stream().filter(p -> p.getFileName().toString().startsWith(file(b).getFileName() + ".damaged-")
        && !p.getFileName().toString().contains(".wal.")).findFirst().orElseThrow();
    assertThat(Files.readAllBytes(main)).isEqualTo(garbage);
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aTextFileIsQuarantinedToo(StoreBackend b) throws IOException {
    Files.writeString(file(b), "this is not a store\n".repeat(100));
    try (SnapshotStore s = open(b)) {
      assertThat(s.size()).isZero();
    }
    assertThat(quarantined()).isNotEmpty();
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aTruncatedFileIsQuarantinedAndTheStoreOpensEmpty(StoreBackend b) throws IOException {
    try (SnapshotStore s = open(b)) {
      for (int i = 0; i < 300; i++) {
        SnapshotKey k = AbstractSnapshotStoreTest.key("k" + i);
        s.put(k, AbstractSnapshotStoreTest.snap(k, i));
      }
    }
    long size = Files.size(file(b));
    try (FileChannel ch = FileChannel.open(file(b), StandardOpenOption.WRITE)) {
      ch.truncate(size / 2);
    }
    try (SnapshotStore s = open(b)) {
      assertThat(s.size()).isZero();
      assertThat(s.verify().ok()).isTrue();
    }
    if (b == StoreBackend.MAPDB) {
      assertThat(quarantined()).isNotEmpty();
    }
    // MVStore may instead fall back to its last intact commit, which here is the empty store it
    // started as: the same recovery it does after a crash. Either way nothing half-written shows.
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void withoutQuarantineADamagedFileIsRefusedAndLeftInPlace(StoreBackend b) throws IOException {
    Files.writeString(file(b), "not a store");
    assertThatThrownBy(
            () -> SnapshotStore.builder().backend(b).path(file(b)).quarantineDamaged(false).build())
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("is damaged or not a store")
        .satisfies(e -> assertThat(((StoreException) e).reason()).isEqualTo(StoreException.Reason.DAMAGED));
    assertThat(Files.readString(file(b))).isEqualTo("not a store");
    assertThat(quarantined()).isEmpty();
    // The lock was released: a normal open now works (and quarantines).
    try (SnapshotStore s = open(b)) {
      assertThat(s.size()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aMissingFileIsRefusedWhenCreationIsOff(StoreBackend b) {
    assertThatThrownBy(
            () -> SnapshotStore.builder().backend(b).path(file(b)).createIfMissing(false).build())
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("does not exist");
    assertThat(Files.exists(file(b))).isFalse();
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aSecondStoreInTheSameProcessGetsInUse(StoreBackend b) {
    try (SnapshotStore s = open(b)) {
      assertThatThrownBy(() -> open(b))
          .isInstanceOf(StoreException.class)
          .hasMessageContaining("is in use")
          .satisfies(e -> assertThat(((StoreException) e).reason()).isEqualTo(StoreException.Reason.IN_USE));
      assertThat(s.size()).isZero();
    }
    try (SnapshotStore again = open(b)) {
      assertThat(again.size()).isZero();
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aSecondProcessGetsAClearInUseError(StoreBackend b) throws Exception {
    try (SnapshotStore s = open(b)) {
      s.put(AbstractSnapshotStoreTest.key("a"), Snapshot.of(1, 1, new byte[10]));
      try (ChildJvm child = ChildJvm.start(LockProbe.class, b.name(), file(b).toString())) {
        assertThat(child.waitFor(60, TimeUnit.SECONDS)).isZero();
        assertThat(child.lines)
            .singleElement()
            .asString()
            .startsWith("refused IN_USE snapshot store")
            .contains("is in use by another process");
      }
    }
    try (ChildJvm child = ChildJvm.start(LockProbe.class, b.name(), file(b).toString())) {
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isZero();
      assertThat(child.lines).containsExactly("opened 1");
    }
  }
}
