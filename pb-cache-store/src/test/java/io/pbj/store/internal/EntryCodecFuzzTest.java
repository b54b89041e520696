package io.pbj.store.internal;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.internal.Codec.CorruptRecordException;
import io.pbj.store.internal.Codec.Header;
import io.pbj.store.internal.Codec.IndexRecord;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Jazzer targets for the store's record codec ({@link Codec}): the code that turns bytes read
 * from a store file into a snapshot, an index record, the header or a key.
 *
 * <p>In every build ({@code mvn verify}) each target runs in regression mode over its seed
 * corpus, {@code src/test/resources/io/pbj/store/internal/EntryCodecFuzzTestInputs/<method>/},
 * plus the empty input. To fuzz one target (one per JVM), see docs/FUZZING.md:
 * {@code mvn -B -P fuzz -pl pb-cache-store test -Dtest='EntryCodecFuzzTest#anyBytesDecodeToARecordOrAMiss' -Dfuzz.duration=5m}.
 * A crash file found that way, copied into the method's directory above, becomes a regression
 * input of every later build. Seeds are written by {@link FuzzSeedWriter}.
 *
 * <p>This is the pattern for PBJ's other fuzz targets: a {@code byte[]} or {@link
 * FuzzedDataProvider} parameter, a property that holds for every input (stated in the method's
 * javadoc, checked with plain exceptions), seeds under {@code <Class>Inputs/<method>/}, and a row
 * in docs/FUZZING.md. Not thread-safe; Jazzer runs a target on one thread.
 */
class EntryCodecFuzzTest {
  /** Input selector bits (byte 1 of {@link #anyBytesDecodeToARecordOrAMiss}'s input). */
  static final int FIX_CRC = 1;
  static final int AS_INDEX = 2;
  static final int AS_HEADER = 4;
  static final int AS_KEY = 8;

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /**
   * Any bytes decode to a record or are reported damaged (a {@link CorruptRecordException}, which
   * the store answers as a miss), never anything else, and decoding allocates at most a few times
   * the input. A record that decodes is canonical: encoding it again gives the same bytes.
   *
   * <p>Input: byte 0 is the key's length in bytes, byte 1 selects the decoder (entry by default,
   * {@link #AS_INDEX}, {@link #AS_HEADER}, {@link #AS_KEY}) and whether to {@link #FIX_CRC fix the
   * checksum} (so the fuzzer also explores what lies behind it), then the key (UTF-8), then the
   * record.
   */
  @FuzzTest(maxDuration = "30s")
  void anyBytesDecodeToARecordOrAMiss(byte[] input) {
    if (input.length < 2) {
      return;
    }
    int keyLength = Math.min(input[0] & 0xFF, input.length - 2);
    int mode = input[1] & 0xFF;
    String key = new String(input, 2, keyLength, StandardCharsets.UTF_8);
    byte[] record = Arrays.copyOfRange(input, 2 + keyLength, input.length);
    if ((mode & FIX_CRC) != 0 && record.length >= 4) {
      ByteBuffer.wrap(record).putInt(record.length - 4, crc(key, record, record.length - 4));
    }
    // Decode twice and measure the second: the first may load, link (and, when fuzzing,
    // instrument) classes and bootstrap string concatenations, which is not the decoder's doing.
    decode(key, record, mode);
    long tid = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(tid);
    Object decoded = decode(key, record, mode);
    long allocated = THREADS.getThreadAllocatedBytes(tid) - before;
    // The decoder itself needs about twice the record (the state, and its copy in Snapshot);
    // the rest is slack for Jazzer's hooks (its regex and comparison hooks allocate a few KiB
    // per call when fuzzing). A decoder trusting a length field would allocate up to 2 GiB.
    long bound = 4L * input.length + 64 * 1024;
    if (allocated > bound) {
      throw new AssertionError("decoding " + input.length + " bytes allocated " + allocated
          + " bytes (bound " + bound + ")");
    }
    if (decoded instanceof Snapshot s && !Arrays.equals(Codec.encodeEntry(key, s), record)) {
      throw new AssertionError("entry decoded from " + record.length + " bytes re-encodes differently");
    }
    if (decoded instanceof Header h && h.formatVersion() == Codec.FORMAT_VERSION
        && !Arrays.equals(Codec.encodeHeader(h), record)) {
      throw new AssertionError("header " + h + " re-encodes differently");
    }
    if (decoded instanceof IndexRecord r && r.stateSize() < 0) {
      throw new AssertionError("index record with a negative state size: " + r);
    }
  }

  /** The decoded record, or null when it is damaged (what the store answers as a miss). */
  private static Object decode(String key, byte[] record, int mode) {
    try {
      if ((mode & AS_KEY) != 0) {
        return decodeKeyOrNull(new String(record, StandardCharsets.UTF_8));
      } else if ((mode & AS_HEADER) != 0) {
        return Codec.decodeHeader(record);
      } else if ((mode & AS_INDEX) != 0) {
        return Codec.decodeIndex(key, record);
      }
      return Codec.decodeEntry(key, record);
    } catch (CorruptRecordException e) {
      return null;
    }
  }

  /** A key string that does not name a key is damaged too (the store treats both alike). */
  private static SnapshotKey decodeKeyOrNull(String s) {
    try {
      SnapshotKey k = Codec.decodeKey(s);
      if (!Codec.key(k).equals(s)) {
        throw new AssertionError("key " + k + " does not encode back to its string");
      }
      return k;
    } catch (IllegalArgumentException e) {
      return null; // a part SnapshotKey refuses (empty, or with a NUL)
    }
  }

  /**
   * Whatever entry the fuzzer builds, encoding then decoding gives the same entry and the same
   * index fields, the key survives its string form, and any single flipped bit in the stored
   * record makes it a miss, never a different snapshot.
   */
  @FuzzTest(maxDuration = "30s")
  void encodeThenDecodeGivesTheSameEntry(FuzzedDataProvider data) {
    SnapshotKey key;
    try {
      key = new SnapshotKey(
          data.consumeString(24), data.consumeString(24), data.consumeString(24), data.consumeString(48));
    } catch (IllegalArgumentException e) {
      return; // not a key the API accepts; the codec never sees it
    }
    long version = data.consumeLong();
    int formatVersion = data.consumeInt(0, Integer.MAX_VALUE);
    long storedAt = data.consumeLong();
    int flip = data.consumeInt(0, Integer.MAX_VALUE);
    byte[] state = data.consumeRemainingAsBytes();
    Snapshot s = Snapshot.of(version, formatVersion, Instant.ofEpochMilli(storedAt), state);
    String k = Codec.key(key);

    if (!Codec.decodeKey(k).equals(key)) {
      throw new AssertionError("key " + key + " came back as " + Codec.decodeKey(k));
    }
    byte[] entry = Codec.encodeEntry(k, s);
    Snapshot back = Codec.decodeEntry(k, entry);
    if (!back.equals(s)) {
      throw new AssertionError(s + " came back as " + back);
    }
    IndexRecord r = Codec.decodeIndex(k, Codec.encodeIndex(k, s));
    if (r.version() != version || r.storedAtMillis() != storedAt || r.stateSize() != state.length) {
      throw new AssertionError(s + " has index record " + r);
    }
    byte[] damaged = entry.clone();
    int bit = flip % (damaged.length * 8);
    damaged[bit / 8] ^= (byte) (1 << (bit % 8));
    try {
      Snapshot wrong = Codec.decodeEntry(k, damaged);
      throw new AssertionError("flipping bit " + bit + " of " + s + " decoded as " + wrong);
    } catch (CorruptRecordException expected) {
      // CRC32C catches every single-bit error; the tag, version and length checks come first.
    }
  }

  /** CRC32C over the key's UTF-8 bytes then {@code len} bytes of {@code data}, as the codec computes it. */
  static int crc(String key, byte[] data, int len) {
    CRC32C c = new CRC32C();
    c.update(key.getBytes(StandardCharsets.UTF_8));
    c.update(data, 0, len);
    return (int) c.getValue();
  }
}
