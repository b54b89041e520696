package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * Attacks on the delta key layout of MapDB files: keys of every shape keep their order and their
 * prefix ranges; a catalog naming the other key layout, bit flips and truncation of a
 * delta-layout file are refused or served without a wrong entry.
 */
class MapDbDeltaKeyAttackTest {
  @TempDir Path dir;

  private static SnapshotStore open(Path file) {
    return SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file)
        .quarantineDamaged(false).build();
  }

  private static Snapshot snapshot(int i) {
    byte[] state = new byte[20 + i % 40];
    for (int j = 0; j < state.length; j++) {
      state[j] = (byte) (i * 31 + j);
    }
    return Snapshot.of(1000L + i, 1, java.time.Instant.ofEpochMilli(1_700_000_000_000L + i), state);
  }

  /** Keys sharing long and short prefixes, keys that are prefixes of others, unicode, long keys. */
  private static Map<SnapshotKey, Snapshot> awkwardKeys() {
    String[] servers = {"a", "ab", "a\u00e9", "a\u007f", "a\u0080", "\u4e2d\u6587", "\ud83d\ude00",
        "\uffff", "s".repeat(3_000)};
    String[] services = {"w", "w\uffff", "ww", "w\u0001"};
    String[] perspectives = {"g", "g2", "\u00e9"};
    List<String> identities = new ArrayList<>(List.of("", "a", "ab", "abc", "\u0001", "\uffff",
        "\uffff\uffff", "\ud800", "\udfff"));
    for (int i = 0; i < 12; i++) {
      identities.add(String.format("obj-%03d", i));
    }
    Map<SnapshotKey, Snapshot> out = new LinkedHashMap<>();
    int n = 0;
    for (String s : servers) {
      for (String v : services) {
        for (String p : perspectives) {
          for (String id : identities) {
            out.put(new SnapshotKey(s, v, p, id), snapshot(n++));
          }
        }
      }
    }
    // Long keys differing only at their end, and one a prefix of the other.
    for (int i = 0; i < 40; i++) {
      out.put(new SnapshotKey("a", "w", "g", "i".repeat(4_000) + i), snapshot(n++));
    }
    out.put(new SnapshotKey("a", "w", "g", "i".repeat(4_000)), snapshot(n++));
    return out;
  }

  private static String joined(SnapshotKey k) {
    return k.server() + '\u0000' + k.service() + '\u0000' + k.perspective() + '\u0000' + k.identity();
  }

  @Test
  void keysOfEveryShapeKeepTheirOrderAndPrefixRangesInADeltaFile() {
    Path file = dir.resolve("awkward.db");
    Map<SnapshotKey, Snapshot> written = awkwardKeys();
    try (SnapshotStore s = open(file)) {
      s.putAll(written);
    }
    // MapDB's own iteration of the delta-keyed tree is in String order, with every key.
    TreeSet<String> expected = new TreeSet<>();
    written.keySet().forEach(k -> expected.add(joined(k)));
    try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
      BTreeMap<String, byte[]> entries = db.treeMap("entries", Serializer.STRING_DELTA,
          Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().open();
      assertThat(new ArrayList<>(entries.keySet())).containsExactlyElementsOf(expected);
    }
    try (SnapshotStore s = open(file);
        SnapshotStore model = SnapshotStore.builder().backend(StoreBackend.MEMORY).build()) {
      model.putAll(written);
      assertThat(s.size()).isEqualTo(written.size());
      List<SnapshotPrefix> prefixes = new ArrayList<>();
      for (SnapshotKey k : written.keySet()) {
        prefixes.add(SnapshotPrefix.of(k.server()));
        prefixes.add(SnapshotPrefix.of(k.server(), k.service()));
        prefixes.add(k.prefix());
      }
      for (SnapshotPrefix p : new java.util.LinkedHashSet<>(prefixes)) {
        List<SnapshotKey> got = s.list(p).stream().map(SnapshotEntry::key).toList();
        List<SnapshotKey> want = model.list(p).stream().map(SnapshotEntry::key).toList();
        assertThat(got).as("list(%s)", p).containsExactlyElementsOf(want);
        assertThat(got).allMatch(p::matches);
      }
      // getAll reads ordered ranges of the tree; get descends per key.
      assertThat(s.getAll(written.keySet())).containsExactlyInAnyOrderEntriesOf(written);
      for (Map.Entry<SnapshotKey, Snapshot> e : written.entrySet()) {
        assertThat(s.get(e.getKey())).contains(e.getValue());
      }
      assertThat(s.verify().ok()).isTrue();
    }
  }

  private Map<SnapshotKey, Snapshot> writeSmall(Path file, int count) {
    Map<SnapshotKey, Snapshot> written = new LinkedHashMap<>();
    for (int i = 0; i < count; i++) {
      written.put(new SnapshotKey("pbj1-hub", "world", "guest", String.format("obj-%04d", i)),
          snapshot(i));
    }
    try (SnapshotStore s = open(file)) {
      s.putAll(written);
    }
    return written;
  }

  /** Refused with a StoreException, or every answer is what was written (or a miss). */
  private static String refusedOrRight(Path file, Map<SnapshotKey, Snapshot> written, String what) {
    SnapshotStore s;
    try {
      s = open(file);
    } catch (StoreException refused) {
      return "refused";
    }
    int served = 0;
    try {
      for (SnapshotEntry e : s.list(SnapshotPrefix.all())) {
        assertThat(written).as(what + ": listed key").containsKey(e.key());
      }
      for (Map.Entry<SnapshotKey, Snapshot> e : written.entrySet()) {
        Optional<Snapshot> got;
        try {
          got = s.get(e.getKey());
        } catch (StoreException damaged) {
          continue;
        }
        if (got.isPresent()) {
          assertThat(got.get()).as(what + ": " + e.getKey()).isEqualTo(e.getValue());
          served++;
        }
      }
      try {
        Map<SnapshotKey, Snapshot> all = s.getAll(written.keySet());
        all.forEach((k, v) -> assertThat(v).as(what + ": getAll " + k).isEqualTo(written.get(k)));
      } catch (StoreException damaged) {
        // refused: fine
      }
      return "served " + served + "/" + written.size() + ", verify ok " + s.verify().ok();
    } finally {
      try {
        s.close();
      } catch (StoreException ignored) {
        // a failed close on a damaged file is reported, not thrown further
      }
    }
  }

  private static void nameKeys(Path file, String map, String serializer) {
    try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
      java.util.SortedMap<String, String> cat = db.nameCatalogLoad();
      cat.put(map + "#keySerializer", serializer);
      db.nameCatalogSave(cat);
      db.commit();
    }
  }

  @Test
  void aCatalogNamingPlainKeysForADeltaMapIsRefusedOrServedRight() throws IOException {
    for (int count : new int[] {5, 30, 400}) {
      for (String map : new String[] {"entries", "index", "meta"}) {
        Path file = dir.resolve("swap-" + count + "-" + map + ".db");
        Map<SnapshotKey, Snapshot> written = writeSmall(file, count);
        nameKeys(file, map, MapDbTables.PLAIN_KEYS);
        String what = map + " named STRING, " + count + " entries";
        System.out.println(what + ": " + refusedOrRight(file, written, what));
      }
    }
  }

  @Test
  void aCatalogNamingDeltaKeysForAPlainMapIsRefusedOrServedRight() throws IOException {
    for (String map : new String[] {"entries", "index", "meta"}) {
      Path file = dir.resolve("v1-" + map + ".mapdb");
      try (var in = getClass().getResourceAsStream("/golden/store-v1.mapdb.gz")) {
        Files.copy(new java.util.zip.GZIPInputStream(in), file);
      }
      Map<SnapshotKey, Snapshot> written = new LinkedHashMap<>();
      try (SnapshotStore s = open(file)) {
        for (SnapshotEntry e : s.list(SnapshotPrefix.all())) {
          written.put(e.key(), s.get(e.key()).orElseThrow());
        }
      }
      nameKeys(file, map, MapDbTables.DELTA_KEYS);
      String what = map + " named STRING_DELTA";
      System.out.println(what + ": " + refusedOrRight(file, written, what));
    }
  }

  private static final Map<String, Integer> OUTCOMES = new java.util.concurrent.ConcurrentSkipListMap<>();

  @org.junit.jupiter.api.AfterAll
  static void tally() {
    System.out.println("OUTCOMES " + OUTCOMES);
  }

  private static byte[] pristine;
  private static Map<SnapshotKey, Snapshot> pristineWritten;
  private static int[] nonZero;

  private synchronized void ensurePristine() throws IOException {
    if (pristine != null) {
      return;
    }
    Path file = dir.resolve("pristine.db");
    pristineWritten = writeSmall(file, 150);
    pristine = Files.readAllBytes(file);
    nonZero = java.util.stream.IntStream.range(0, pristine.length)
        .filter(i -> pristine[i] != 0).toArray();
  }

  private Path copy(byte[] bytes) throws IOException {
    Path d = Files.createTempDirectory(dir, "case");
    Path f = d.resolve("s.db");
    Files.write(f, bytes);
    return f;
  }

  @Test
  void aBitFlippedDeltaFileIsRefusedOrServedRight() throws IOException {
    ensurePristine();
    qt().withExamples(120).withFixedSeed(20261202L)
        .forAll(integers().between(0, nonZero.length - 1), integers().between(0, 7))
        .checkAssert((at, bit) -> {
          byte[] b = pristine.clone();
          int pos = nonZero[at];
          b[pos] ^= (byte) (1 << bit);
          try {
            String r = refusedOrRight(copy(b), pristineWritten, "bit " + bit + " of byte " + pos);
            OUTCOMES.merge(r.startsWith("served 150") ? "all served" : r.startsWith("served")
                ? "some served" : r, 1, Integer::sum);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  @Test
  void aTruncatedDeltaFileIsRefusedOrServedRight() throws IOException {
    ensurePristine();
    qt().withExamples(40).withFixedSeed(20261202L)
        .forAll(integers().between(1, nonZero.length - 1))
        .checkAssert(at -> {
          try {
            String r = refusedOrRight(copy(java.util.Arrays.copyOf(pristine, nonZero[at])),
                pristineWritten, "cut at " + nonZero[at]);
            OUTCOMES.merge("cut: " + r, 1, Integer::sum);
          } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
          }
        });
  }

  /**
   * A garbled key in an {@code entries} node (one flipped bit in a delta node's shared prefix
   * renames every key of the node) keeps the entry count, so open passes; the index still lists
   * the keys. A read that finds no entry under a listed key is that damage: it must be counted
   * like a checksum failure, not a silent miss.
   */
  @Test
  void anEntryMissingUnderAListedKeyIsCountedAsDamage() {
    Path file = dir.resolve("renamed.db");
    Map<SnapshotKey, Snapshot> written = writeSmall(file, 30);
    List<SnapshotKey> keys = new ArrayList<>(written.keySet());
    SnapshotKey lost = keys.get(5);
    SnapshotKey lostToo = keys.get(6);
    try (DB db = DBMaker.fileDB(file.toFile()).transactionEnable().make()) {
      BTreeMap<String, byte[]> entries = db.treeMap("entries", Serializer.STRING_DELTA,
          Serializer.BYTE_ARRAY).valuesOutsideNodesEnable().open();
      for (SnapshotKey k : List.of(lost, lostToo)) {
        byte[] v = entries.remove(Codec.key(k));
        entries.put(Codec.key(k) + "~", v);
      }
      db.commit();
    }
    try (SnapshotStore s = open(file)) {
      assertThat(s.list(SnapshotPrefix.all())).extracting(SnapshotEntry::key).contains(lost, lostToo);
      assertThat(s.get(lost)).isEmpty();
      assertThat(s.getAll(List.of(lostToo, keys.get(0)))).containsOnlyKeys(keys.get(0));
      assertThat(s.stats().checksumFailures()).isEqualTo(2);
      assertThat(s.stats().misses()).isEqualTo(2);
      assertThat(s.get(keys.get(7))).contains(written.get(keys.get(7)));
    }
  }

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

  /**
   * A delta node may name as many keys as its map's node size allows, each as long as the node,
   * all sharing the whole node as prefix: it decodes to (keys + 1) times its size in characters.
   * With a catalog naming node size 1,024 that was 2,050 keys, so a 26 KB node allocated 82 MB
   * (x3,137) and a 1 MB node would ask for 3 GB at open. The node size of a delta map is what
   * this code writes (32), so a catalog naming more than twice that is damage.
   */
  @Test
  void aDeltaNodeCannotAllocateMoreThanAFewHundredTimesItsSize() throws Exception {
    assertThatThrownBy(() -> MapDbTables.keyReader(Map.of(
            "entries#keySerializer", MapDbTables.DELTA_KEYS, "entries#maxNodeSize", "1024"),
            "entries"))
        .isInstanceOf(DamagedFileException.class)
        .hasMessageContaining("node size 1024");
    int nodeSize = MapDbTables.MAX_NODE_SIZE;
    org.mapdb.serializer.GroupSerializer<String> reader = MapDbTables.keyReader(Map.of(
        "entries#keySerializer", MapDbTables.DELTA_KEYS, "entries#maxNodeSize", "" + nodeSize),
        "entries");
    int keys = 2 * nodeSize + 2;
    int len = 20_000;
    org.mapdb.DataOutput2 out = new org.mapdb.DataOutput2();
    for (int i = 0; i < keys; i++) {
      out.packInt(len);
    }
    out.packInt(len);
    for (int j = 0; j < len; j++) {
      out.packInt('p');
    }
    byte[] node = out.copyBytes();
    reader.valueArrayDeserialize(new org.mapdb.DataInput2.ByteArray(node), keys); // warm up
    long tid = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(tid);
    reader.valueArrayDeserialize(new org.mapdb.DataInput2.ByteArray(node), keys);
    long allocated = THREADS.getThreadAllocatedBytes(tid) - before;
    assertThat(allocated).isLessThan(300L * node.length);
  }
}
