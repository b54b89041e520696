package io.pbj.store.internal;

import io.pbj.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.DataIO;
import org.mapdb.DataInput2;
import org.mapdb.MapModificationListener;
import org.mapdb.Serializer;
import org.mapdb.Store;
import org.mapdb.serializer.GroupSerializer;
import org.mapdb.serializer.SerializerByteArray;
import org.mapdb.serializer.SerializerString;
import org.mapdb.serializer.SerializerStringDelta;

/**
 * MapDB 3 file store with transactions (a write-ahead log beside the file) and B-tree maps, so
 * keys are ordered. MapDB's maps are thread-safe; only the writer thread mutates them.
 *
 * <p>The maps are read through {@link BoundedString} (or {@link BoundedStringDelta}) and {@link
 * BoundedBytes}, which write exactly what MapDB's {@code Serializer.STRING} ({@code STRING_DELTA})
 * and {@code Serializer.BYTE_ARRAY} write (the file's catalog names those, so plain MapDB opens the
 * files too) but check every length read
 * from the file against the bytes actually there before allocating: a zeroed or garbled page then
 * fails with a {@link DamagedFileException} instead of a 2 GB allocation or a negative array size.
 *
 * <p>Maps created by this code keep their keys with {@code Serializer.STRING_DELTA} (each node
 * stores the prefix its keys share once: the server, service and perspective parts), read through
 * {@link BoundedStringDelta}; maps of older files keep {@code Serializer.STRING}. The catalog says
 * which, per map. Decoding and re-encoding every key of a node on each descent was most of the
 * cost of a put (see docs/STORE.md).
 */
final class MapDbTables extends Tables {
  private final Path file;
  private final DB db;
  private final Map<String, byte[]> entries;
  private final Map<String, byte[]> index;
  private final Map<String, byte[]> meta;

  MapDbTables(Path file) {
    this.file = file;
    DB opened =
        DBMaker.fileDB(file.toFile()).transactionEnable().fileMmapEnableIfSupported().make();
    try {
      long maxNodes = maxNodes(file);
      this.entries = bounded(opened, "entries", true, maxNodes);
      this.index = bounded(opened, "index", false, maxNodes);
      this.meta = bounded(opened, "meta", false, maxNodes);
    } catch (RuntimeException | Error e) {
      try {
        opened.close();
      } catch (RuntimeException | Error suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    this.db = opened;
  }

  /**
   * Creates or opens map {@code name} the ordinary way (so the catalog names MapDB's own
   * serializers), then builds the map object over the same root with the bounded serializers.
   * MapDB's {@code open} would otherwise take the serializers from the catalog and ignore ours.
   * The tree of a map the file already holds is checked first ({@link #checkTree}): opening a map
   * already follows its left edge down to a leaf.
   */
  @SuppressWarnings("unchecked")
  private static BTreeMap<String, byte[]> bounded(
      DB db, String name, boolean valuesOutside, long maxNodes) {
    Map<String, String> existing = db.nameCatalogParamsFor(name);
    if (!existing.isEmpty()) {
      checkTree(db.getStore(), name, Long.parseLong(param(existing, name, "rootRecidRecid")),
          maxNodes, keyReader(existing, name));
    }
    boolean delta = existing.isEmpty() || DELTA_KEYS.equals(existing.get(name + "#keySerializer"));
    DB.TreeMapMaker<String, byte[]> maker = db.treeMap(
        name, delta ? Serializer.STRING_DELTA : Serializer.STRING, Serializer.BYTE_ARRAY);
    if (valuesOutside) {
      maker = maker.valuesOutsideNodesEnable();
    }
    maker.createOrOpen();
    Map<String, String> p = db.nameCatalogParamsFor(name);
    long rootRecidRecid = Long.parseLong(param(p, name, "rootRecidRecid"));
    int maxNodeSize = Integer.parseInt(param(p, name, "maxNodeSize"));
    boolean valueInline = Boolean.parseBoolean(p.getOrDefault(name + "#valueInline", "true"));
    String counter = p.get(name + "#counterRecid");
    long counterRecid = counter == null ? 0L : Long.parseLong(counter);
    GroupSerializer<String> keys = keyReader(p, name);
    return new BTreeMap<>(
        keys,
        BoundedBytes.INSTANCE,
        rootRecidRecid,
        db.getStore(),
        valueInline,
        maxNodeSize,
        keys,
        db.isThreadSafe(),
        counterRecid,
        true,
        new MapModificationListener[0]);
  }

  private static String param(Map<String, String> p, String name, String key) {
    String v = p.get(name + "#" + key);
    if (v == null) {
      throw new DamagedFileException("MapDB catalog has no " + key + " for map " + name);
    }
    return v;
  }

  /** What the catalog names for keys written with {@code Serializer.STRING_DELTA}. */
  static final String DELTA_KEYS = "org.mapdb.Serializer#STRING_DELTA";

  /** What the catalog names for keys written with {@code Serializer.STRING} (older files). */
  static final String PLAIN_KEYS = "org.mapdb.Serializer#STRING";

  /**
   * Largest node size the catalog may name for a delta-layout map: twice what this code writes
   * (MapDB's default, 32). A delta node decodes to up to (keys + 1) times its own size, and its
   * key count is bounded by the node size, so this bound is what keeps a crafted node's
   * allocation to a few hundred times its bytes (at 1,024 it was over 3,000 times).
   */
  static final int MAX_NODE_SIZE = 64;

  /**
   * The bounded reader for the keys of map {@code name}, as its catalog entry names them: {@code
   * STRING} (older files) or {@code STRING_DELTA}; anything else is damage (this code never wrote
   * it).
   */
  static GroupSerializer<String> keyReader(Map<String, String> catalog, String name) {
    String named = catalog.get(name + "#keySerializer");
    if (PLAIN_KEYS.equals(named)) {
      return BoundedString.INSTANCE;
    }
    if (DELTA_KEYS.equals(named)) {
      int nodeSize = Integer.parseInt(param(catalog, name, "maxNodeSize"));
      if (nodeSize < 1 || nodeSize > MAX_NODE_SIZE) {
        throw new DamagedFileException("MapDB map " + name + " names node size " + nodeSize
            + ", outside 1.." + MAX_NODE_SIZE);
      }
      return new BoundedStringDelta(nodeSize);
    }
    throw new DamagedFileException("MapDB map " + name + " has key serializer " + named
        + ", which this store never writes");
  }

  /** Smallest space a record takes in a MapDB file (its allocation unit). */
  private static final int RECORD_UNIT = 16;

  /** How many records, so how many tree nodes, the store's files have room for. */
  private static long maxNodes(Path file) {
    long bytes = 0;
    try {
      bytes += Files.size(file);
      for (Path p : walFiles(file)) {
        bytes += Files.size(p);
      }
    } catch (IOException | UncheckedIOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot read the size of " + file + ": " + e.getMessage(), e);
    }
    return bytes / RECORD_UNIT + 1;
  }

  /** The parts of a B-tree node that give the tree its shape (MapDB's node format). */
  record TreeNode(boolean dir, boolean leftEdge, boolean rightEdge, long link, long[] children) {}

  private static final int DIR = 1 << 3;
  private static final int LEFT = 1 << 2;
  private static final int RIGHT = 1 << 1;

  /**
   * Reads node {@code recid} as {@code BTreeMapJava.NodeSerializer} writes it: the key count and
   * flags in one parity-checked packed int, the link unless it is the right edge, the keys (read
   * with the bounded key serializer), then a directory node's children.
   */
  static TreeNode readNode(Store store, long recid) throws IOException {
    return readNode(store, recid, BoundedString.INSTANCE);
  }

  /** {@link #readNode(Store, long)} for a map whose keys {@code keys} reads. */
  static TreeNode readNode(Store store, long recid, GroupSerializer<String> keyReader)
      throws IOException {
    byte[] raw = store.get(recid, Serializer.BYTE_ARRAY_NOSIZE);
    if (raw == null) {
      throw new DamagedFileException("MapDB tree node " + recid + " is missing");
    }
    DataInput2.ByteArray in = new DataInput2.ByteArray(raw);
    int head = DataIO.parity1Get(in.unpackInt()) >>> 1;
    int flags = head & 0xF;
    int keys = head >>> 4;
    boolean right = (flags & RIGHT) != 0;
    boolean left = (flags & LEFT) != 0;
    long link = right ? 0L : in.unpackLong();
    if (keys > 0) {
      keyReader.valueArrayDeserialize(in, keys);
    }
    long[] children = null;
    if ((flags & DIR) != 0) {
      int n = keys - 1 + (left ? 1 : 0) + (right ? 1 : 0);
      // Every child takes at least one byte.
      children = new long[checkedLength(n, raw.length - in.getPos(), "child count")];
      in.unpackLongArray(children, 0, n);
    }
    return new TreeNode((flags & DIR) != 0, left, right, link, children);
  }

  /**
   * Walks map {@code name}'s B-tree level by level before MapDB opens it, reading each node once.
   * MapDB follows child pointers and links without bounds, so a tree a killed commit left with a
   * cycle makes it loop for ever (an iteration filling the heap, a lookup spinning), and a broken
   * pointer in a node that open does not otherwise read surfaces only on a later lookup. Each
   * level must be one chain of links from a left edge to a right edge, made of exactly the
   * children of the level above, in order; the root is a level of its own. That shape has no
   * cycle, so every descent and every iteration MapDB makes over it ends. The walk reads each node
   * at most once and at most {@code maxNodes} nodes (as many as the files have room for), whatever
   * the file holds.
   */
  static void checkTree(Store store, String name, long rootRecidRecid, long maxNodes) {
    checkTree(store, name, rootRecidRecid, maxNodes, BoundedString.INSTANCE);
  }

  /** {@link #checkTree(Store, String, long, long)} for a map whose keys {@code keys} reads. */
  static void checkTree(
      Store store, String name, long rootRecidRecid, long maxNodes, GroupSerializer<String> keys) {
    Long root = store.get(rootRecidRecid, Serializer.RECID);
    if (root == null || root <= 0) {
      throw new DamagedFileException("MapDB map " + name + " has no root node");
    }
    long[] level = {root};
    long read = 0;
    // Each node is read once: links and children that lead back to a node already read (on this
    // level or one above, which the shape checks alone would let through level after level) are
    // a cycle. So the work is one read per node, however the pointers were bent.
    Set<Long> seen = new HashSet<>();
    for (int depth = 0; ; depth++) {
      long[] below = new long[0];
      int belowCount = 0;
      boolean dir = false;
      for (int i = 0; i < level.length; i++) {
        if (++read > maxNodes) {
          throw new DamagedFileException("MapDB map " + name + " has more tree nodes than its "
              + "files have room for (" + maxNodes + "): its pointers form a cycle");
        }
        String where = "MapDB map " + name + ", level " + depth + ", node " + level[i] + ": ";
        if (!seen.add(level[i])) {
          throw new DamagedFileException(where + "was reached before: its pointers form a cycle");
        }
        TreeNode n;
        try {
          n = readNode(store, level[i], keys);
        } catch (IOException | RuntimeException e) {
          throw new DamagedFileException(where + "cannot be read: " + BackendFailure.describe(e));
        }
        boolean last = i == level.length - 1;
        if (n.leftEdge() != (i == 0) || n.rightEdge() != last) {
          throw new DamagedFileException(where + "its edge flags do not match its place in the level");
        }
        if (!last && n.link() != level[i + 1]) {
          throw new DamagedFileException(
              where + "links to " + n.link() + ", not to its right neighbour " + level[i + 1]);
        }
        if (i == 0) {
          dir = n.dir();
        } else if (n.dir() != dir) {
          throw new DamagedFileException(where + "directory and leaf nodes on one level");
        }
        if (dir) {
          long[] c = n.children();
          if (c.length == 0 || belowCount + (long) c.length > maxNodes) {
            throw new DamagedFileException(where + "has " + c.length + " children");
          }
          if (belowCount + c.length > below.length) {
            below = Arrays.copyOf(below, Math.max(belowCount + c.length, below.length * 2));
          }
          System.arraycopy(c, 0, below, belowCount, c.length);
          belowCount += c.length;
        }
      }
      if (!dir) {
        return;
      }
      level = Arrays.copyOf(below, belowCount);
    }
  }

  /** MapDB's write-ahead log files for {@code file}: {@code <name>.wal.<n>}. */
  static List<Path> walFiles(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    String prefix = file.getFileName().toString() + ".wal.";
    List<Path> out = new ArrayList<>();
    if (dir == null || !Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** Offset of the file tail (bytes MapDB has allocated) in MapDB 3's file header. */
  private static final int FILE_TAIL_OFFSET = 40;

  /**
   * Read before MapDB opens the file (MapDB grows a short file back to its tail on open, so
   * afterwards the evidence is gone). Null when the file is at least as long as the file tail its
   * header records, else why not. MapDB writes the header before it grows the file inside a
   * commit, so while write-ahead log files exist (a commit that has not finished, which MapDB
   * replays on open) a short file is normal and is not judged.
   */
  static String truncation(Path file) {
    byte[] head = new byte[FILE_TAIL_OFFSET + 8];
    long length;
    try {
      if (!walFiles(file).isEmpty()) {
        return null;
      }
      try (InputStream in = Files.newInputStream(file)) {
        if (in.readNBytes(head, 0, head.length) < head.length) {
          return null; // too short to hold a header: MapDB's own checks refuse it
        }
      }
      length = Files.size(file);
    } catch (IOException | UncheckedIOException e) {
      // Not the file's fault: say so rather than quarantine it.
      throw new StoreException(
          StoreException.Reason.IO, "cannot read " + file + ": " + e.getMessage(), e);
    }
    long tail;
    try {
      tail = DataIO.parity16Get(ByteBuffer.wrap(head).getLong(FILE_TAIL_OFFSET));
    } catch (RuntimeException e) {
      return "MapDB file header is damaged (its file tail fails its parity check)";
    }
    if (tail > length) {
      return "truncated: the file is " + length + " bytes but its MapDB header says it holds "
          + tail;
    }
    return null;
  }

  @Override
  Map<String, byte[]> entries() {
    return entries;
  }

  @Override
  Map<String, byte[]> index() {
    return index;
  }

  @Override
  Map<String, byte[]> meta() {
    return meta;
  }

  @Override
  void commit() {
    db.commit();
  }

  @Override
  void rollback() {
    db.rollback();
  }

  @Override
  long fileBytes() {
    long total = 0;
    try {
      total += Files.size(file);
      for (Path p : walFiles(file)) {
        total += Files.size(p);
      }
    } catch (IOException | UncheckedIOException e) {
      // A file vanishing between list and size only makes the number approximate.
    }
    return total;
  }

  @Override
  public void close() {
    if (!db.isClosed()) {
      db.close();
    }
  }

  /** Bytes left to read in {@code in}, or {@code fallback} when the input does not say. */
  static int remaining(DataInput2 in, int fallback) {
    if (in instanceof DataInput2.ByteArray a) {
      return a.internalByteArray().length - a.getPos();
    }
    if (in instanceof DataInput2.ByteBuffer b) {
      return b.internalByteBuffer().limit() - b.getPos();
    }
    return fallback;
  }

  /** No length read from the file may exceed this when the input cannot say what is left. */
  static final int UNKNOWN_REMAINING_BOUND = 64 << 20;

  static int checkedLength(int length, int bound, String what) {
    if (length < 0 || length > bound) {
      throw new DamagedFileException(
          "MapDB " + what + " length " + length + " exceeds the " + bound + " bytes left in its record");
    }
    return length;
  }

  /** {@code Serializer.STRING}'s format, with every length checked before allocation. */
  static final class BoundedString extends SerializerString {
    static final BoundedString INSTANCE = new BoundedString();

    @Override
    public String deserialize(DataInput2 in, int available) throws IOException {
      int bound = Math.min(available < 0 ? Integer.MAX_VALUE : available, remaining(in, UNKNOWN_REMAINING_BOUND));
      int len = checkedLength(in.unpackInt(), bound, "key");
      char[] c = new char[len];
      for (int i = 0; i < len; i++) {
        c[i] = (char) in.unpackInt();
      }
      return new String(c);
    }

    @Override
    public char[][] valueArrayDeserialize(DataInput2 in, int size) throws IOException {
      int bound = remaining(in, UNKNOWN_REMAINING_BOUND);
      // Every key takes at least one byte, every character at least one more.
      char[][] out = new char[checkedLength(size, bound, "key count")][];
      for (int i = 0; i < size; i++) {
        int len = checkedLength(in.unpackInt(), remaining(in, UNKNOWN_REMAINING_BOUND), "key");
        char[] c = new char[len];
        for (int j = 0; j < len; j++) {
          c[j] = (char) in.unpackInt();
        }
        out[i] = c;
      }
      return out;
    }
  }

  /**
   * {@code Serializer.STRING_DELTA}'s format, with every length checked before allocation. A node
   * stores its keys' lengths, the length of the prefix they share, the prefix once, then each
   * key's rest. What it decodes to is at most (key count + 1) times the bytes left in the node, and
   * the key count at most twice the map's node size, so a garbled node cannot make it allocate
   * more than a small multiple of its own size.
   */
  static final class BoundedStringDelta extends SerializerStringDelta {
    private final int maxKeys;

    BoundedStringDelta(int maxNodeSize) {
      this.maxKeys = 2 * maxNodeSize + 2;
    }

    @Override
    public String deserialize(DataInput2 in, int available) throws IOException {
      return BoundedString.INSTANCE.deserialize(in, available);
    }

    @Override
    public char[][] valueArrayDeserialize(DataInput2 in, int size) throws IOException {
      if (size < 0 || size > maxKeys) {
        throw new DamagedFileException(
            "MapDB node key count " + size + " is outside 0.." + maxKeys + " for its map");
      }
      int[] lengths = new int[size];
      int shortest = Integer.MAX_VALUE;
      for (int i = 0; i < size; i++) {
        lengths[i] = checkedLength(in.unpackInt(), remaining(in, UNKNOWN_REMAINING_BOUND), "key");
        shortest = Math.min(shortest, lengths[i]);
      }
      int left = remaining(in, UNKNOWN_REMAINING_BOUND);
      int prefix = in.unpackInt();
      if (prefix < 0 || (size > 0 && prefix > shortest) || (size == 0 && prefix != 0)) {
        throw new DamagedFileException("MapDB node key prefix length " + prefix
            + " exceeds its shortest key (" + (size == 0 ? 0 : shortest) + ")");
      }
      // Every character still to read (the prefix once, then each key's rest) takes a byte.
      long toRead = prefix;
      for (int len : lengths) {
        toRead += len - prefix;
      }
      checkedLength((int) Math.min(toRead, Integer.MAX_VALUE), left, "key characters");
      char[][] out = new char[size][];
      for (int i = 0; i < size; i++) {
        out[i] = new char[lengths[i]];
      }
      for (int j = 0; j < prefix; j++) {
        out[0][j] = (char) in.unpackInt();
      }
      for (int i = 1; i < size; i++) {
        System.arraycopy(out[0], 0, out[i], 0, prefix);
      }
      for (char[] key : out) {
        for (int j = prefix; j < key.length; j++) {
          key[j] = (char) in.unpackInt();
        }
      }
      return out;
    }
  }

  /** {@code Serializer.BYTE_ARRAY}'s format, with every length checked before allocation. */
  static final class BoundedBytes extends SerializerByteArray {
    static final BoundedBytes INSTANCE = new BoundedBytes();

    @Override
    public byte[] deserialize(DataInput2 in, int available) throws IOException {
      int bound = Math.min(available < 0 ? Integer.MAX_VALUE : available, remaining(in, UNKNOWN_REMAINING_BOUND));
      byte[] out = new byte[checkedLength(in.unpackInt(), bound, "value")];
      in.readFully(out);
      return out;
    }

    @Override
    public byte[][] valueArrayDeserialize(DataInput2 in, int size) throws IOException {
      // Like MapDB's own: the count comes from the stream (its valueArraySerialize writes it).
      int n = checkedLength(in.unpackInt(), remaining(in, UNKNOWN_REMAINING_BOUND), "value count");
      byte[][] out = new byte[n][];
      for (int i = 0; i < n; i++) {
        out[i] = deserialize(in, -1);
      }
      return out;
    }
  }
}
