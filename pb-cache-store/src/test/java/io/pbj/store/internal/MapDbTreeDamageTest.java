package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import java.io.RandomAccessFile;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.DataInput2;
import org.mapdb.DataIO;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;
import org.mapdb.Store;

/**
 * Damage to the shape of a MapDB B-tree, as a killed commit leaves it (the kill test met both):
 * a leaf whose link points back into its own level, and a broken pointer to a node that opening
 * the store did not read. MapDB follows links and pointers without bounds, so before the tree
 * walk at open the first made open fill the heap for minutes (the kill test's forked JVM died of
 * {@code OutOfMemoryError}) and the second opened cleanly and then threw {@code
 * DBException$PointerChecksumBroken} from {@code BTreeMap.getNode} on a later read, quarantining
 * the file mid-session. Both must be found at open.
 *
 * <p>The timeouts only keep a regression from hanging the build (the cycle made open loop); they
 * measure nothing.
 */
class MapDbTreeDamageTest {
  @TempDir Path dir;

  private static final int KEYS = 3000;

  private static SnapshotKey key(int i) {
    return new SnapshotKey("hub:7000", "world", "guest", String.format("obj-%05d", i));
  }

  private static Snapshot snapshot(int i) {
    return Snapshot.of(i, 1, Instant.ofEpochMilli(1_700_000_000_000L + i), new byte[] {(byte) i, 7});
  }

  /** A store deep enough that its trees have directory levels below the root. */
  private Path writeStore() {
    Path file = dir.resolve("s.db");
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
      for (int i = 0; i < KEYS; i++) {
        batch.put(key(i), snapshot(i));
      }
      s.putAll(batch);
    }
    return file;
  }

  private static DB openRaw(Path file) {
    return DBMaker.fileDB(file.toFile()).transactionEnable().make();
  }

  /** The recids of map {@code name}'s tree, level by level from the root. */
  private static List<long[]> levels(DB db, String name) throws Exception {
    Store store = db.getStore();
    long rootRecidRecid = Long.parseLong(db.nameCatalogParamsFor(name).get(name + "#rootRecidRecid"));
    List<long[]> levels = new ArrayList<>();
    long[] level = {store.get(rootRecidRecid, Serializer.RECID)};
    while (true) {
      levels.add(level);
      List<Long> below = new ArrayList<>();
      for (long recid : level) {
        MapDbTables.TreeNode n = MapDbTables.readNode(store, recid, MapDbTables.keyReader(db.nameCatalogParamsFor(name), name));
        if (!n.dir()) {
          return levels;
        }
        for (long c : n.children()) {
          below.add(c);
        }
      }
      level = below.stream().mapToLong(Long::longValue).toArray();
    }
  }

  private static List<Path> quarantined(Path dir) throws Exception {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().contains(".damaged-")
          && !p.getFileName().toString().contains(".wal.")).toList();
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aLeafLinkedBackIntoItsLevelIsQuarantinedAtOpenInsteadOfIteratedForEver() throws Exception {
    Path file = writeStore();
    try (DB db = openRaw(file)) {
      List<long[]> levels = levels(db, "index");
      long[] leaves = levels.get(levels.size() - 1);
      assertThat(leaves.length).as("index leaves").isGreaterThan(3);
      // The third leaf links back to the first: an iteration goes round for ever.
      Store store = db.getStore();
      byte[] raw = store.get(leaves[2], Serializer.BYTE_ARRAY_NOSIZE);
      DataInput2.ByteArray in = new DataInput2.ByteArray(raw);
      int head = in.unpackInt();
      assertThat(in.unpackLong()).isEqualTo(leaves[3]);
      DataOutput2 out = new DataOutput2();
      out.packInt(head);
      out.packLong(leaves[0]);
      out.write(raw, in.getPos(), raw.length - in.getPos());
      store.update(leaves[2], out.copyBytes(), Serializer.BYTE_ARRAY_NOSIZE);
      db.commit();
    }

    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      assertThat(s.stats().quarantines()).as("quarantined at open").isEqualTo(1);
      assertThat(s.size()).isZero();
    }
    assertThat(quarantined(dir)).hasSize(1);

    // The inspector's mode refuses it with a reason instead of looping.
    Path copy = dir.resolve("copy.db");
    Files.copy(quarantined(dir).get(0), copy);
    try (SnapshotStore s =
        SnapshotStore.builder().backend(StoreBackend.MAPDB).path(copy).quarantineDamaged(false).build()) {
      throw new AssertionError("opened a store whose index leaves form a cycle: " + s.size());
    } catch (StoreException e) {
      assertThat(e.reason()).isEqualTo(StoreException.Reason.DAMAGED);
      assertThat(e).hasMessageContaining("MapDB map index").hasMessageContaining("links to " );
    }
  }

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void aBrokenPointerToANodeThatOpenDidNotReadIsFoundAtOpenNotOnALaterRead() throws Exception {
    Path file = writeStore();
    long offset;
    try (DB db = openRaw(file)) {
      List<long[]> levels = levels(db, "entries");
      assertThat(levels.size()).as("entries tree depth").isGreaterThanOrEqualTo(3);
      long[] belowRoot = levels.get(1);
      assertThat(belowRoot.length).as("directory nodes below the root").isGreaterThan(1);
      // Neither an iteration (it follows the leaves) nor a size count reads this node: only a
      // lookup of a key below it does.
      long victim = belowRoot[belowRoot.length - 1];
      Method recidToOffset =
          org.mapdb.StoreDirectAbstract.class.getDeclaredMethod("recidToOffset", long.class);
      recidToOffset.setAccessible(true);
      offset = (long) recidToOffset.invoke(db.getStore(), victim);
    }
    // Flip a bit of the node's index value: its parity check fails (PointerChecksumBroken).
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(offset + 7);
      int b = f.read();
      f.seek(offset + 7);
      f.write(b ^ 0x10);
    }

    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      assertThat(s.stats().quarantines()).as("quarantined at open").isEqualTo(1);
      assertThat(s.size()).isZero();
      assertThat(s.get(key(KEYS - 1))).isEmpty();
      assertThat(s.stats().quarantines()).as("nothing more found on a read").isEqualTo(1);
    }
    assertThat(quarantined(dir)).hasSize(1);
  }

  /** A directory node as MapDB writes one: key count and flags, link, one-char keys, children. */
  private static byte[] dirNode(boolean left, boolean right, long link, int keys, long... children)
      throws java.io.IOException {
    DataOutput2 out = new DataOutput2();
    int flags = (1 << 3) | (left ? 1 << 2 : 0) | (right ? 1 << 1 : 0);
    out.packInt(DataIO.parity1Set(((keys << 4) | flags) << 1));
    if (!right) {
      out.packLong(link);
    }
    for (int k = 0; k < keys; k++) {
      out.packInt(1);
      out.packInt('k');
    }
    for (long c : children) {
      out.packLong(c);
    }
    return out.copyBytes();
  }

  @Test
  @Timeout(value = 1, unit = TimeUnit.MINUTES)
  void aLevelWhoseNodesAreTheirOwnChildrenIsACycleFoundOnTheSecondVisit() throws Exception {
    // root -> [L, R]; L's only child is L, R's only child is R, L links to R: every level below
    // the root is [L, R] again and passes the shape checks, so only remembering what was read
    // ends the walk (before, it read L and R again until maxNodes reads).
    try (DB db = DBMaker.memoryDB().make()) {
      Store store = db.getStore();
      long l = store.preallocate();
      long r = store.preallocate();
      long root = store.put(dirNode(true, true, 0, 1, l, r), Serializer.BYTE_ARRAY_NOSIZE);
      store.update(l, dirNode(true, false, r, 1, l), Serializer.BYTE_ARRAY_NOSIZE);
      store.update(r, dirNode(false, true, 0, 1, r), Serializer.BYTE_ARRAY_NOSIZE);
      long rootRecid = store.put(root, Serializer.RECID);
      assertThat(MapDbTables.readNode(store, l).children()).containsExactly(l);

      assertThatThrownBy(() -> MapDbTables.checkTree(store, "index", rootRecid, 1_000_000))
          .isInstanceOf(DamagedFileException.class)
          .hasMessageContaining("level 2, node " + l + ": was reached before");
    }
  }

  @Test
  void aHealthyTreeOfEveryDepthPassesTheWalk() throws Exception {
    Path file = dir.resolve("grow.db");
    int written = 0;
    for (int target : new int[] {0, 1, 40, 700, KEYS}) {
      try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
        assertThat(s.stats().quarantines()).as("reopened with %d entries", written).isZero();
        assertThat(s.size()).isEqualTo(written);
        for (; written < target; written++) {
          s.put(key(written), snapshot(written));
        }
        // removals leave empty nodes behind (MapDB never merges them)
        for (int i = 0; i < written; i += 3) {
          s.remove(key(i));
        }
        for (int i = 0; i < written; i += 3) {
          s.put(key(i), snapshot(i));
        }
      }
    }
    try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MAPDB).path(file).build()) {
      assertThat(s.stats().quarantines()).isZero();
      assertThat(s.size()).isEqualTo(KEYS);
      assertThat(s.get(key(KEYS - 1))).contains(snapshot(KEYS - 1));
      assertThat(s.verify().ok()).isTrue();
    }
    try (DB db = openRaw(file)) {
      assertThat(levels(db, "entries").size()).as("entries tree depth").isGreaterThanOrEqualTo(3);
    }
  }
}
