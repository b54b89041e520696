package io.pbj.store;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Writes the golden store files under src/test/resources/golden. Run by hand only when a new
 * format version is introduced; the files of older versions must stay and keep opening.
 */
final class GoldenStoreWriter {
  private GoldenStoreWriter() {}

  static SnapshotKey key(int i) {
    return new SnapshotKey("pb://golden:7000", "world", i % 2 == 0 ? "guest" : "admin", "obj-" + i);
  }

  static Snapshot snapshot(int i) {
    byte[] state = new byte[10 + i * 7];
    for (int j = 0; j < state.length; j++) {
      state[j] = (byte) (i * 31 + j);
    }
    return Snapshot.of(100L + i, 2, Instant.parse("2024-01-02T03:04:05.678Z").plusSeconds(i), state);
  }

  public static void main(String[] args) {
    Path dir = Path.of(args[0]);
    for (StoreBackend b : new StoreBackend[] {StoreBackend.MAPDB, StoreBackend.MVSTORE}) {
      Path file = dir.resolve(b == StoreBackend.MAPDB ? "store-v1.mapdb" : "store-v1.mv");
      try (SnapshotStore s = SnapshotStore.builder().backend(b).path(file).build()) {
        for (int i = 0; i < 12; i++) {
          s.put(key(i), snapshot(i));
        }
      }
    }
  }
}
