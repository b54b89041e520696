package io.pbj.store.internal;

import io.pbj.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.mapdb.BTreeMap;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.DataIO;
import org.mapdb.DataInput2;
import org.mapdb.MapModificationListener;
import org.mapdb.Serializer;
import org.mapdb.serializer.SerializerByteArray;
import org.mapdb.serializer.SerializerString;

/**
 * MapDB 3 file store with transactions (a write-ahead log beside the file) and B-tree maps, so
 * keys are ordered. MapDB's maps are thread-safe; only the writer thread mutates them.
 *
 * <p>The maps are read through {@link BoundedString} and {@link BoundedBytes}, which write exactly
 * what MapDB's {@code Serializer.STRING} and {@code Serializer.BYTE_ARRAY} write (the file's
 * catalog still names those, so older files and older code agree) but check every length read
 * from the file against the bytes actually there before allocating: a zeroed or garbled page then
 * fails with a {@link DamagedFileException} instead of a 2 GB allocation or a negative array size.
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
      this.entries = bounded(opened, "entries", true);
      this.index = bounded(opened, "index", false);
      this.meta = bounded(opened, "meta", false);
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
   */
  @SuppressWarnings("unchecked")
  private static BTreeMap<String, byte[]> bounded(DB db, String name, boolean valuesOutside) {
    DB.TreeMapMaker<String, byte[]> maker = db.treeMap(name, Serializer.STRING, Serializer.BYTE_ARRAY);
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
    return new BTreeMap<>(
        BoundedString.INSTANCE,
        BoundedBytes.INSTANCE,
        rootRecidRecid,
        db.getStore(),
        valueInline,
        maxNodeSize,
        BoundedString.INSTANCE,
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
