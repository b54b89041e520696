package io.pbj.store.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiConsumer;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.DataUtils;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

/**
 * H2 MVStore with auto-commit off: nothing reaches the file until {@link #commit()}, which
 * appends a chunk and syncs it. MVMaps are thread-safe; only the writer thread mutates them.
 *
 * <p>Keys and values go through {@link KeyType} and {@link ValueType}, which write exactly what
 * MVStore's default {@code ObjectDataType} writes for a {@code String} and a {@code byte[]} (so
 * files written before them still open) but read nothing else: a garbled tag is a damaged file,
 * never another Java type or a class name handed to {@code Class.forName}, and every length is
 * checked against the bytes left in the page before anything is allocated.
 */
final class MvStoreTables extends Tables {
  private final Path file;
  private final MVStore store;
  private final MVMap<String, byte[]> entries;
  private final MVMap<String, byte[]> index;
  private final MVMap<String, byte[]> meta;

  MvStoreTables(Path file) {
    this.file = file;
    MVStore opened = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    try {
      this.entries = opened.openMap("entries", builder());
      this.index = opened.openMap("index", builder());
      this.meta = opened.openMap("meta", builder());
    } catch (RuntimeException | Error e) {
      try {
        opened.closeImmediately();
      } catch (RuntimeException | Error suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    this.store = opened;
  }

  private static MVMap.Builder<String, byte[]> builder() {
    return new MVMap.Builder<String, byte[]>().keyType(KeyType.INSTANCE).valueType(ValueType.INSTANCE);
  }

  @Override
  Map<String, byte[]> entries() {
    return entries;
  }

  @Override
  void scanEntries(String from, String to, BiConsumer<String, byte[]> sink) {
    Cursor<String, byte[]> c = entries.cursor(from, to, false);
    while (c.hasNext()) {
      String k = c.next();
      sink.accept(k, c.getValue());
    }
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
    store.commit();
    store.sync();
  }

  @Override
  void rollback() {
    store.rollback();
  }

  /**
   * The file header (the first block, written by MVStore after the chunk it points to) records
   * the newest version at that time and where its chunk starts. A file cut short keeps its header
   * but MVStore silently falls back to the newest chunk it can still read, or to an empty store:
   * an older version than the header promises means the end of the file is missing.
   */
  @Override
  String truncation() {
    Map<String, Object> header = store.getStoreHeader();
    long promised = headerLong(header, "version", 0);
    long block = headerLong(header, "block", 0);
    long blockSize = headerLong(header, "blockSize", 0x1000);
    long chunk = headerLong(header, "chunk", 0);
    long opened = store.getCurrentVersion();
    long length = fileBytes();
    if (block * blockSize >= length && block > 0) {
      return "truncated: the file is " + length + " bytes but its header places chunk " + chunk
          + " (version " + promised + ") at byte " + block * blockSize;
    }
    if (opened < promised) {
      return "truncated or damaged: the file header promises version " + promised + " (chunk "
          + chunk + " at byte " + block * blockSize + ") but only version " + opened
          + " could be read from its " + length + " bytes";
    }
    return null;
  }

  /** A header field: hex text as read from a file, or a number in a store created by this process. */
  private static long headerLong(Map<String, Object> header, String key, long absent) {
    Object v = header.get(key);
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof String text) {
      try {
        return Long.parseLong(text, 16);
      } catch (NumberFormatException e) {
        throw new DamagedFileException("MVStore file header field " + key + " is not a number: " + text);
      }
    }
    return absent;
  }

  @Override
  long fileBytes() {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  void abandon() {
    // closeImmediately writes nothing: a damaged file stays as it was found.
    if (!store.isClosed()) {
      store.closeImmediately();
    }
  }

  @Override
  public void close() {
    if (!store.isClosed()) {
      store.close();
    }
  }

  /**
   * Most keys or values one page may hold. MVStore splits pages at a few KiB, so real pages hold
   * hundreds; this only stops a garbled count from allocating gigabytes.
   */
  static final int MAX_PAGE_ENTRIES = 1 << 20;

  private static final int TYPE_STRING = 11;
  private static final int TYPE_ARRAY = 14;
  private static final int BYTE_CLASS_ID = 1;
  private static final int TAG_STRING_0_15 = 88;
  private static final int TAG_BYTE_ARRAY_0_15 = 104;

  private static int checkedLength(int length, ByteBuffer buff, String what) {
    if (length < 0 || length > buff.remaining()) {
      throw new DamagedFileException(
          "MVStore " + what + " length " + length + " exceeds the " + buff.remaining()
              + " bytes left in its page");
    }
    return length;
  }

  private static int checkedCount(int size) {
    if (size < 0 || size > MAX_PAGE_ENTRIES) {
      throw new DamagedFileException(
          "MVStore page claims " + size + " entries (at most " + MAX_PAGE_ENTRIES + " are read)");
    }
    return size;
  }

  /** A {@code String} key as {@code ObjectDataType} writes it. Stateless; thread-safe. */
  static final class KeyType extends BasicDataType<String> {
    static final KeyType INSTANCE = new KeyType();

    @Override
    public int getMemory(String s) {
      return 24 + 2 * s.length();
    }

    @Override
    public void write(WriteBuffer buff, String s) {
      int len = s.length();
      if (len <= 15) {
        buff.put((byte) (TAG_STRING_0_15 + len));
      } else {
        buff.put((byte) TYPE_STRING).putVarInt(len);
      }
      buff.putStringData(s, len);
    }

    @Override
    public String read(ByteBuffer buff) {
      int tag = buff.get() & 0xFF;
      int len;
      if (tag >= TAG_STRING_0_15 && tag < TAG_STRING_0_15 + 16) {
        len = tag - TAG_STRING_0_15;
      } else if (tag == TYPE_STRING) {
        len = DataUtils.readVarInt(buff);
      } else {
        throw new DamagedFileException("MVStore key has tag " + tag + ", not a string");
      }
      // Each character takes at least one byte.
      return DataUtils.readString(buff, checkedLength(len, buff, "key"));
    }

    @Override
    public int compare(String a, String b) {
      return a.compareTo(b);
    }

    @Override
    public String[] createStorage(int size) {
      return new String[checkedCount(size)];
    }
  }

  /** A {@code byte[]} value as {@code ObjectDataType} writes it. Stateless; thread-safe. */
  static final class ValueType extends BasicDataType<byte[]> {
    static final ValueType INSTANCE = new ValueType();

    @Override
    public int getMemory(byte[] b) {
      return 24 + b.length;
    }

    @Override
    public void write(WriteBuffer buff, byte[] b) {
      int len = b.length;
      if (len <= 15) {
        buff.put((byte) (TAG_BYTE_ARRAY_0_15 + len));
      } else {
        buff.put((byte) TYPE_ARRAY).put((byte) BYTE_CLASS_ID).putVarInt(len);
      }
      buff.put(b);
    }

    @Override
    public byte[] read(ByteBuffer buff) {
      int tag = buff.get() & 0xFF;
      int len;
      if (tag >= TAG_BYTE_ARRAY_0_15 && tag < TAG_BYTE_ARRAY_0_15 + 16) {
        len = tag - TAG_BYTE_ARRAY_0_15;
      } else if (tag == TYPE_ARRAY) {
        int component = buff.get();
        if (component != BYTE_CLASS_ID) {
          throw new DamagedFileException("MVStore value is an array of type " + component + ", not bytes");
        }
        len = DataUtils.readVarInt(buff);
      } else {
        throw new DamagedFileException("MVStore value has tag " + tag + ", not a byte array");
      }
      byte[] out = new byte[checkedLength(len, buff, "value")];
      buff.get(out);
      return out;
    }

    @Override
    public byte[][] createStorage(int size) {
      return new byte[checkedCount(size)][];
    }
  }
}
