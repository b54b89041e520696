package io.pbj.store.internal;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.internal.Codec.Header;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;

/**
 * Writes the seed corpora of the store's fuzz targets ({@link EntryCodecFuzzTest},
 * {@code io.pbj.store.StoreFileFuzzTest}) under a test resources root. Run from the module
 * directory when a target's input layout or the file format changes:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.pbj.store.internal.FuzzSeedWriter src/test/resources
 * </pre>
 *
 * <p>The codec seeds are deterministic; the MVStore files carry their creation time, so those
 * differ byte for byte between runs (not in what they exercise). Crash reproducers copied into
 * the same directories are left alone. Not thread-safe; a one-shot tool.
 */
public final class FuzzSeedWriter {
  private FuzzSeedWriter() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources");
    writeCodecSeeds(root.resolve("io/pbj/store/internal/EntryCodecFuzzTestInputs"));
    writeStoreFileSeeds(root.resolve("io/pbj/store/StoreFileFuzzTestInputs/anyMvStoreFileServesOrIsQuarantined"));
  }

  private static final SnapshotKey KEY = new SnapshotKey("hub:7000", "world", "guest", "room-17");

  static void writeCodecSeeds(Path dir) throws IOException {
    Path decode = dir.resolve("anyBytesDecodeToARecordOrAMiss");
    Files.createDirectories(decode);
    String k = Codec.key(KEY);
    Snapshot empty = Snapshot.of(1, 0, Instant.ofEpochMilli(0), new byte[0]);
    Snapshot small = Snapshot.of(42, 3, Instant.ofEpochMilli(1_700_000_000_123L), "state".getBytes(StandardCharsets.UTF_8));
    byte[] bytes = new byte[100];
    new Random(7).nextBytes(bytes);
    Snapshot full = Snapshot.of(Long.MAX_VALUE, Integer.MAX_VALUE, Instant.ofEpochMilli(-1), bytes);

    write(decode, "entry-empty", input(k, 0, Codec.encodeEntry(k, empty)));
    write(decode, "entry-small", input(k, 0, Codec.encodeEntry(k, small)));
    write(decode, "entry-100", input(k, 0, Codec.encodeEntry(k, full)));
    write(decode, "entry-unicode-key", input("s\u0000\u00e9\u0000\u4e2d\u0000\ud83d\ude00", 0,
        Codec.encodeEntry("s\u0000\u00e9\u0000\u4e2d\u0000\ud83d\ude00", small)));
    // Damaged entries whose checksum the target fixes, so the checks behind it are reached.
    byte[] huge = Codec.encodeEntry(k, small);
    ByteBuffer.wrap(huge).putInt(22, Integer.MAX_VALUE);
    write(decode, "entry-length-max-crc-fixed", input(k, EntryCodecFuzzTest.FIX_CRC, huge));
    byte[] negative = Codec.encodeEntry(k, small);
    ByteBuffer.wrap(negative).putInt(18, -1);
    write(decode, "entry-negative-format-crc-fixed", input(k, EntryCodecFuzzTest.FIX_CRC, negative));
    byte[] flipped = Codec.encodeEntry(k, full);
    flipped[40] ^= 4;
    write(decode, "entry-flipped-bit", input(k, 0, flipped));
    write(decode, "entry-truncated", input(k, 0, Arrays.copyOf(Codec.encodeEntry(k, full), 60)));

    write(decode, "index", input(k, EntryCodecFuzzTest.AS_INDEX, Codec.encodeIndex(k, full)));
    byte[] negativeSize = Codec.encodeIndex(k, small);
    ByteBuffer.wrap(negativeSize).putInt(18, -5);
    write(decode, "index-negative-size-crc-fixed",
        input(k, EntryCodecFuzzTest.AS_INDEX | EntryCodecFuzzTest.FIX_CRC, negativeSize));
    write(decode, "header", input(Codec.HEADER_KEY, EntryCodecFuzzTest.AS_HEADER,
        Codec.encodeHeader(new Header(Codec.FORMAT_VERSION, 12, 4096))));
    write(decode, "header-newer-format", input(Codec.HEADER_KEY, EntryCodecFuzzTest.AS_HEADER,
        Codec.encodeHeader(new Header(Codec.FORMAT_VERSION + 1, 0, 0))));
    write(decode, "key", input("", EntryCodecFuzzTest.AS_KEY, k.getBytes(StandardCharsets.UTF_8)));
    write(decode, "key-three-parts", input("", EntryCodecFuzzTest.AS_KEY,
        "a\u0000b\u0000c".getBytes(StandardCharsets.UTF_8)));

    Path roundTrip = dir.resolve("encodeThenDecodeGivesTheSameEntry");
    Files.createDirectories(roundTrip);
    Random r = new Random(11);
    for (int size : new int[] {16, 64, 300}) {
      byte[] seed = new byte[size];
      r.nextBytes(seed);
      write(roundTrip, "random-" + size, seed);
    }
    write(roundTrip, "ascii-parts", "hub:7000world-guest-room-17-and-some-state-bytes........"
        .getBytes(StandardCharsets.US_ASCII));
  }

  /** byte 0 key length, byte 1 mode, key, record: the layout of anyBytesDecodeToARecordOrAMiss. */
  private static byte[] input(String key, int mode, byte[] record) throws IOException {
    byte[] k = key.getBytes(StandardCharsets.UTF_8);
    if (k.length > 255) {
      throw new IllegalArgumentException("seed key longer than 255 bytes");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(k.length);
    out.write(mode);
    out.write(k);
    out.write(record);
    return out.toByteArray();
  }

  static void writeStoreFileSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path tmp = Files.createTempDirectory("pbj-seeds");
    try {
      Path file = tmp.resolve("seed.mv");
      try (SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(file).build()) {
        for (int i = 0; i < 3; i++) {
          s.put(new SnapshotKey("hub:7000", "world", "guest", "obj-" + i),
              Snapshot.of(10 + i, 1, Instant.ofEpochMilli(1_700_000_000_000L + i), ("state-" + i).getBytes(StandardCharsets.UTF_8)));
        }
      }
      byte[] three = Files.readAllBytes(file);
      write(dir, "three-entries", three);
      write(dir, "three-entries-half", Arrays.copyOf(three, three.length / 2));
      Path empty = tmp.resolve("empty.mv");
      SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(empty).build().close();
      write(dir, "empty-store", Files.readAllBytes(empty));
      write(dir, "not-a-store", "H:2,this is not really an MVStore header\n".getBytes(StandardCharsets.US_ASCII));
    } finally {
      try (var files = Files.walk(tmp)) {
        for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
          Files.delete(p);
        }
      }
    }
  }

  private static void write(Path dir, String name, byte[] data) throws IOException {
    Files.write(dir.resolve(name), data);
  }
}
