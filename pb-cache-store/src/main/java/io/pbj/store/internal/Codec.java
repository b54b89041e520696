package io.pbj.store.internal;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.zip.CRC32C;

/**
 * The store's record formats (format version 1). Keys are the four parts joined by NUL, so the
 * backends' string order groups a server/service/perspective prefix into one contiguous range.
 * Stateless; thread-safe.
 */
final class Codec {
  static final int FORMAT_VERSION = 1;
  static final String HEADER_KEY = "header";
  private static final byte[] MAGIC = "PBJSTORE".getBytes(StandardCharsets.US_ASCII);
  private static final byte ENTRY_TAG = 'E';
  private static final byte INDEX_TAG = 'I';
  private static final byte RECORD_VERSION = 1;
  /** tag, record version, version, storedAt, formatVersion, state length, crc. */
  static final int ENTRY_OVERHEAD = 1 + 1 + 8 + 8 + 4 + 4 + 4;
  private static final int INDEX_SIZE = 1 + 1 + 8 + 8 + 4 + 4;
  private static final int HEADER_SIZE = 8 + 4 + 8 + 8 + 4;

  private Codec() {}

  static String key(SnapshotKey k) {
    return k.server() + '\u0000' + k.service() + '\u0000' + k.perspective() + '\u0000' + k.identity();
  }

  static SnapshotKey decodeKey(String s) {
    String[] p = s.split("\u0000", -1);
    if (p.length != 4) {
      throw new CorruptRecordException("key does not have four parts: " + s.replace('\u0000', '/'));
    }
    return new SnapshotKey(p[0], p[1], p[2], p[3]);
  }

  /** Inclusive lower bound of {@code prefix}'s key range, or null for all keys. */
  static String lowerBound(SnapshotPrefix prefix) {
    String p = prefixString(prefix);
    return p == null ? null : p + '\u0000';
  }

  /** Exclusive upper bound of {@code prefix}'s key range, or null for all keys. */
  static String upperBound(SnapshotPrefix prefix) {
    String p = prefixString(prefix);
    return p == null ? null : p + '\u0001';
  }

  private static String prefixString(SnapshotPrefix prefix) {
    if (prefix.server() == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(prefix.server());
    if (prefix.service() != null) {
      sb.append('\u0000').append(prefix.service());
      if (prefix.perspective() != null) {
        sb.append('\u0000').append(prefix.perspective());
      }
    }
    return sb.toString();
  }

  /** Bytes a key and its state count against the budget. */
  static long accountedBytes(String key, int stateSize) {
    return 2L * key.length() + ENTRY_OVERHEAD + stateSize;
  }

  static byte[] encodeEntry(String key, Snapshot s) {
    byte[] state = s.state();
    ByteBuffer b = ByteBuffer.allocate(ENTRY_OVERHEAD + state.length);
    b.put(ENTRY_TAG).put(RECORD_VERSION).putLong(s.version()).putLong(s.storedAt().toEpochMilli());
    b.putInt(s.formatVersion()).putInt(state.length).put(state);
    b.putInt(crc(key, b.array(), b.position()));
    return b.array();
  }

  /** Decodes an entry, verifying its checksum; throws CorruptRecordException on any mismatch. */
  static Snapshot decodeEntry(String key, byte[] record) {
    if (record == null || record.length < ENTRY_OVERHEAD) {
      throw new CorruptRecordException("entry record too short");
    }
    ByteBuffer b = ByteBuffer.wrap(record);
    if (b.get() != ENTRY_TAG || b.get() != RECORD_VERSION) {
      throw new CorruptRecordException("entry record has a bad tag");
    }
    long version = b.getLong();
    long storedAt = b.getLong();
    int formatVersion = b.getInt();
    int len = b.getInt();
    if (len != record.length - ENTRY_OVERHEAD) {
      throw new CorruptRecordException("entry record length " + len + " does not match its size");
    }
    int expected = ByteBuffer.wrap(record, record.length - 4, 4).getInt();
    if (crc(key, record, record.length - 4) != expected) {
      throw new CorruptRecordException("entry checksum mismatch");
    }
    byte[] state = new byte[len];
    b.get(state);
    if (formatVersion < 0) {
      throw new CorruptRecordException("entry has a negative format version");
    }
    return Snapshot.of(version, formatVersion, Instant.ofEpochMilli(storedAt), state);
  }

  /** The index record: what a listing and the LRU index need, without the state. */
  record IndexRecord(long version, long storedAtMillis, int stateSize) {}

  static byte[] encodeIndex(String key, Snapshot s) {
    ByteBuffer b = ByteBuffer.allocate(INDEX_SIZE);
    b.put(INDEX_TAG).put(RECORD_VERSION).putLong(s.version()).putLong(s.storedAt().toEpochMilli());
    b.putInt(s.stateSize());
    b.putInt(crc(key, b.array(), b.position()));
    return b.array();
  }

  static IndexRecord decodeIndex(String key, byte[] record) {
    if (record == null || record.length != INDEX_SIZE) {
      throw new CorruptRecordException("index record has the wrong size");
    }
    ByteBuffer b = ByteBuffer.wrap(record);
    if (b.get() != INDEX_TAG || b.get() != RECORD_VERSION) {
      throw new CorruptRecordException("index record has a bad tag");
    }
    IndexRecord r = new IndexRecord(b.getLong(), b.getLong(), b.getInt());
    if (crc(key, record, INDEX_SIZE - 4) != b.getInt() || r.stateSize() < 0) {
      throw new CorruptRecordException("index checksum mismatch");
    }
    return r;
  }

  /** The file header: magic, format version, entry count and accounted bytes at last commit. */
  record Header(int formatVersion, long count, long bytes) {}

  static byte[] encodeHeader(Header h) {
    ByteBuffer b = ByteBuffer.allocate(HEADER_SIZE);
    b.put(MAGIC).putInt(h.formatVersion()).putLong(h.count()).putLong(h.bytes());
    b.putInt(crc(HEADER_KEY, b.array(), b.position()));
    return b.array();
  }

  static Header decodeHeader(byte[] record) {
    if (record == null || record.length < 12) {
      throw new CorruptRecordException("store header missing or too short");
    }
    ByteBuffer b = ByteBuffer.wrap(record);
    byte[] magic = new byte[MAGIC.length];
    b.get(magic);
    if (!java.util.Arrays.equals(magic, MAGIC)) {
      throw new CorruptRecordException("store header has a bad magic number");
    }
    int format = b.getInt();
    if (format != FORMAT_VERSION) {
      // Checked by the caller before the rest, so a newer file is refused rather than quarantined.
      return new Header(format, -1, -1);
    }
    if (record.length != HEADER_SIZE) {
      throw new CorruptRecordException("store header has the wrong size");
    }
    Header h = new Header(format, b.getLong(), b.getLong());
    if (crc(HEADER_KEY, record, HEADER_SIZE - 4) != b.getInt()) {
      throw new CorruptRecordException("store header checksum mismatch");
    }
    return h;
  }

  private static int crc(String key, byte[] data, int len) {
    CRC32C c = new CRC32C();
    c.update(key.getBytes(StandardCharsets.UTF_8));
    c.update(data, 0, len);
    return (int) c.getValue();
  }

  /** A record that fails its checks. */
  static final class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptRecordException(String message) {
      super(message);
    }
  }
}
