package io.pbj.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Child-JVM main for {@link KillTest}: writes numbered batches until killed, printing
 * {@code committed N} after batch N is known to be committed.
 */
final class KillTestWriter {
  static final int BATCH = 40;

  private KillTestWriter() {}

  static SnapshotKey key(int batch, int i) {
    return new SnapshotKey("hub:7000", "world", "guest", "b" + batch + "-" + i);
  }

  /** The snapshot for entry i of a batch, of varying size, fully determined by its key. */
  static Snapshot snapshot(int batch, int i) {
    SnapshotKey k = key(batch, i);
    int size = 512 + (batch * 131 + i * 977) % 3500;
    return Snapshot.of(batch, 1, java.time.Instant.ofEpochMilli(1_700_000_000_000L + batch),
        AbstractSnapshotStoreTest.state(k, batch, size));
  }

  public static void main(String[] args) {
    StoreBackend backend = StoreBackend.valueOf(args[0]);
    Path path = Path.of(args[1]);
    int first = Integer.parseInt(args[2]);
    SnapshotStore store =
        SnapshotStore.builder()
            .backend(backend)
            .path(path)
            .writeBatchSize(BATCH)
            .writeInterval(Duration.ofMillis(5))
            .build();
    System.out.println("ready");
    System.out.flush();
    for (int b = first; ; b++) {
      Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
      for (int i = 0; i < BATCH; i++) {
        batch.put(key(b, i), snapshot(b, i));
      }
      // A hot key rewritten by every batch, so commits also replace and free space.
      SnapshotKey hot = new SnapshotKey("hub:7000", "world", "guest", "hot");
      batch.put(hot, Snapshot.of(b, 1, AbstractSnapshotStoreTest.state(hot, b, 2048)));
      store.putAll(batch);
      if (b % 3 == 0) {
        store.remove(key(b - 1, 0)); // deletes too; removed keys are not counted as lost
      }
      store.flush();
      System.out.println("committed " + b);
      System.out.flush();
    }
  }
}
