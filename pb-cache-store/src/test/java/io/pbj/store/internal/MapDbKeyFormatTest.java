package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;

/**
 * New MapDB files keep their keys with {@code STRING_DELTA}; files of the first layout ({@code
 * STRING} keys) keep opening and keep their layout when written to; the delta key reader reads
 * what MapDB writes and refuses what the bytes cannot hold.
 */
class MapDbKeyFormatTest {
  @TempDir Path dir;

  private static final String[] MAPS = {"entries", "index", "meta"};

  private static Map<String, String> catalog(Path file) {
    Map<String, String> out = new LinkedHashMap<>();
    try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
      for (String m : MAPS) {
        out.put(m, db.nameCatalogParamsFor(m).get(m + "#keySerializer"));
      }
    }
    return out;
  }

  private static SnapshotKey key(int i) {
    return new SnapshotKey("pbj1-" + "s".repeat(52), "world", "guest", "obj-" + i);
  }

  private static Snapshot snapshot(int i) {
    byte[] state = new byte[100 + i % 50];
    state[0] = (byte) i;
    return Snapshot.of(1000L + i, 1, state);
  }

  @Test
  void aNewStoreKeepsDeltaKeysAndReopensWithEveryEntry() {
    Path file = dir.resolve("s.db");
    Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
    for (int i = 0; i < 2_000; i++) {
      batch.put(key(i), snapshot(i));
    }
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      s.putAll(batch);
    }
    assertThat(catalog(file)).containsOnly(
        Map.entry("entries", MapDbTables.DELTA_KEYS),
        Map.entry("index", MapDbTables.DELTA_KEYS),
        Map.entry("meta", MapDbTables.DELTA_KEYS));
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file)
        .quarantineDamaged(false).build()) {
      assertThat(s.size()).isEqualTo(2_000);
      for (int i = 0; i < 2_000; i += 7) {
        assertSame(s.get(key(i)), snapshot(i));
      }
      assertThat(s.verify().ok()).isTrue();
      assertThat(s.stats().quarantines()).isZero();
    }
  }

  @Test
  void aFirstLayoutFileKeepsPlainKeysWhenWrittenTo() throws Exception {
    Path file = dir.resolve("v1.mapdb");
    try (InputStream in = getClass().getResourceAsStream("/golden/store-v1.mapdb.gz")) {
      Files.copy(new GZIPInputStream(in), file);
    }
    assertThat(catalog(file).values()).containsOnly(MapDbTables.PLAIN_KEYS);
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file)
        .quarantineDamaged(false).build()) {
      for (int i = 0; i < 500; i++) {
        s.put(key(i), snapshot(i));
      }
    }
    assertThat(catalog(file).values()).containsOnly(MapDbTables.PLAIN_KEYS);
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file)
        .quarantineDamaged(false).build()) {
      assertThat(s.size()).isEqualTo(12 + 500);
      assertSame(s.get(key(499)), snapshot(499));
      assertThat(s.verify().ok()).isTrue();
    }
  }

  /** Snapshots compare their stored-at time too; what was written is version and state. */
  private static void assertSame(java.util.Optional<Snapshot> read, Snapshot written) {
    assertThat(read).isPresent();
    assertThat(read.get().version()).isEqualTo(written.version());
    assertThat(read.get().state()).isEqualTo(written.state());
  }

  private static byte[] deltaWrite(char[][] keys) throws Exception {
    DataOutput2 out = new DataOutput2();
    Serializer.STRING_DELTA.valueArraySerialize(out, keys);
    return out.copyBytes();
  }

  @Test
  void theDeltaReaderReadsWhatMapDbWrites() throws Exception {
    List<char[][]> nodes = new ArrayList<>();
    nodes.add(new char[][] {"a".toCharArray()});
    nodes.add(new char[][] {"".toCharArray(), "b".toCharArray()});
    nodes.add(new char[][] {"hub\u0000world\u0000obj-1".toCharArray(),
        "hub\u0000world\u0000obj-10".toCharArray(), "hub\u0000world\u0000obj-2".toCharArray()});
    nodes.add(new char[][] {"\u00e9\u4e2d\ud83d\ude00 k".toCharArray(),
        "\u00e9\u4e2d\ud83d\ude00 l".toCharArray()});
    for (char[][] keys : nodes) {
      byte[] bytes = deltaWrite(keys);
      char[][] back = new MapDbTables.BoundedStringDelta(32)
          .valueArrayDeserialize(new DataInput2.ByteArray(bytes), keys.length);
      assertThat(back).isDeepEqualTo(keys);
    }
  }

  @Test
  void theDeltaReaderRefusesCountsAndLengthsTheBytesCannotHold() throws Exception {
    MapDbTables.BoundedStringDelta reader = new MapDbTables.BoundedStringDelta(32);
    byte[] good = deltaWrite(new char[][] {"ab".toCharArray(), "ac".toCharArray()});
    // A key count far beyond the map's node size.
    assertThatThrownBy(() -> reader.valueArrayDeserialize(new DataInput2.ByteArray(good), 1_000_000))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("key count 1000000");
    // A key length of about 1 GiB in a node of a few bytes.
    DataOutput2 huge = new DataOutput2();
    huge.packInt(1 << 30);
    huge.packInt(0);
    assertThatThrownBy(() -> reader.valueArrayDeserialize(new DataInput2.ByteArray(huge.copyBytes()), 1))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("key length " + (1 << 30));
    // A shared prefix longer than the shortest key.
    DataOutput2 prefix = new DataOutput2();
    prefix.packInt(2);
    prefix.packInt(1);
    prefix.packInt(3);
    prefix.packInt('a');
    prefix.packInt('b');
    prefix.packInt('c');
    assertThatThrownBy(() -> reader.valueArrayDeserialize(new DataInput2.ByteArray(prefix.copyBytes()), 2))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("prefix length 3");
    // Lengths each within the node but together beyond its bytes.
    DataOutput2 sum = new DataOutput2();
    for (int i = 0; i < 30; i++) {
      sum.packInt(40);
    }
    sum.packInt(0);
    for (int i = 0; i < 50; i++) {
      sum.packInt('x');
    }
    assertThatThrownBy(() -> reader.valueArrayDeserialize(new DataInput2.ByteArray(sum.copyBytes()), 30))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("key characters");
  }

  @Test
  void aCatalogNamingAnotherKeySerializerIsDamage() {
    assertThatThrownBy(() -> MapDbTables.keyReader(
            Map.of("entries#keySerializer", "org.mapdb.Serializer#JAVA"), "entries"))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("org.mapdb.Serializer#JAVA");
    assertThatThrownBy(() -> MapDbTables.keyReader(Map.of(
            "entries#keySerializer", MapDbTables.DELTA_KEYS, "entries#maxNodeSize", "100000"),
            "entries"))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("node size 100000");
  }
}
