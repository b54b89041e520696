package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One suite over every backend (grpc's AbstractTransportTest pattern): each subclass only says
 * how to build a store.
 */
abstract class AbstractSnapshotStoreTest {
  @TempDir Path dir;

  private final List<SnapshotStore> opened = new ArrayList<>();

  /** A builder for this backend, pointing at a fixed file under {@code dir}. */
  protected abstract SnapshotStoreBuilder builder(Path dir);

  /** Whether data survives close and reopen. */
  protected abstract boolean persistent();

  protected SnapshotStore open(SnapshotStoreBuilder b) {
    SnapshotStore s = b.build();
    opened.add(s);
    return s;
  }

  protected SnapshotStore open() {
    return open(builder(dir));
  }

  @AfterEach
  void closeEverything() {
    for (SnapshotStore s : opened) {
      s.close();
    }
    // A writer thread left behind means a store was not closed: that is a leak.
    assertThat(Thread.getAllStackTraces().keySet())
        .noneMatch(t -> t.getName().startsWith("pbj-store-writer-") && t.isAlive());
  }

  static SnapshotKey key(String identity) {
    return new SnapshotKey("hub:7000", "world", "guest", identity);
  }

  static byte[] state(SnapshotKey key, long version, int size) {
    byte[] b = new byte[size];
    byte[] seed = (key + "#" + version).getBytes(StandardCharsets.UTF_8);
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (seed[i % seed.length] + i / seed.length);
    }
    return b;
  }

  static Snapshot snap(SnapshotKey key, long version) {
    return Snapshot.of(version, 3, Instant.ofEpochMilli(1_700_000_000_000L + version), state(key, version, 100));
  }

  @Test
  void putThenGetReturnsEveryField() {
    SnapshotStore store = open();
    SnapshotKey k = key("room-1");
    Snapshot s = Snapshot.of(42L, 7, Instant.parse("2024-05-01T10:15:30.123456Z"), new byte[] {1, 2, 3});
    store.put(k, s);
    Snapshot back = store.get(k).orElseThrow();
    assertThat(back.version()).isEqualTo(42L);
    assertThat(back.formatVersion()).isEqualTo(7);
    assertThat(back.storedAt()).isEqualTo(Instant.parse("2024-05-01T10:15:30.123Z"));
    assertThat(back.state()).containsExactly(1, 2, 3);
    store.flush();
    assertThat(store.get(k)).contains(s);
  }

  @Test
  void getAllAnswersWhatGetAnswersForEachKeyPendingCommittedOrAbsent() {
    SnapshotStore store = open();
    Map<SnapshotKey, Snapshot> committed = new LinkedHashMap<>();
    for (int i = 0; i < 100; i++) {
      committed.put(key(String.format("tile-%03d", i)), snap(key(String.format("tile-%03d", i)), i));
    }
    store.putAll(committed);
    store.flush();
    SnapshotKey pending = key("tile-050");
    store.put(pending, snap(pending, 999));      // newer than the committed entry, not yet flushed
    store.remove(key("tile-007"));
    SnapshotKey other = new SnapshotKey("hub:7000", "world", "other", "tile-001");
    store.put(other, snap(other, 5));

    List<SnapshotKey> wanted = new ArrayList<>(committed.keySet());
    wanted.add(key("absent"));
    wanted.add(other);
    Map<SnapshotKey, Snapshot> all = store.getAll(wanted);
    for (SnapshotKey k : wanted) {
      assertThat(Optional.ofNullable(all.get(k))).as("%s", k).isEqualTo(store.get(k));
    }
    assertThat(all).hasSize(100);    // 100 - removed + other
    assertThat(all.get(pending).version()).isEqualTo(999);
    assertThat(all).doesNotContainKey(key("tile-007")).doesNotContainKey(key("absent"));

    List<SnapshotKey> sparse = List.of(key("tile-000"), key("tile-099"));
    assertThat(store.getAll(sparse)).containsOnlyKeys(sparse);
    assertThat(store.getAll(List.of())).isEmpty();
  }

  @Test
  void unknownKeyIsAMiss() {
    SnapshotStore store = open();
    assertThat(store.get(key("nobody"))).isEmpty();
    assertThat(store.stats().misses()).isEqualTo(1);
  }

  @Test
  void emptyStateAndEmptyIdentityRoundTrip() {
    SnapshotStore store = open();
    SnapshotKey k = key("");
    store.put(k, Snapshot.of(1, 0, new byte[0]));
    store.flush();
    assertThat(store.get(k).orElseThrow().stateSize()).isZero();
    assertThat(store.list(k.prefix())).extracting(SnapshotEntry::key).containsExactly(k);
  }

  @Test
  void laterPutReplacesEarlierOne() {
    SnapshotStore store = open();
    SnapshotKey k = key("room-1");
    store.put(k, snap(k, 1));
    store.flush();
    store.put(k, snap(k, 2));
    assertThat(store.get(k)).contains(snap(k, 2));
    store.flush();
    assertThat(store.get(k)).contains(snap(k, 2));
    assertThat(store.size()).isEqualTo(1);
  }

  @Test
  void removedKeyIsAMissBeforeAndAfterCommit() {
    SnapshotStore store = open();
    SnapshotKey a = key("a");
    SnapshotKey b = key("b");
    store.put(a, snap(a, 1));
    store.put(b, snap(b, 1));
    store.flush();
    store.remove(a);
    assertThat(store.get(a)).isEmpty();
    store.flush();
    assertThat(store.get(a)).isEmpty();
    assertThat(store.get(b)).isPresent();
    assertThat(store.size()).isEqualTo(1);
  }

  @Test
  void prefixListingReturnsOnlyThatPerspectiveSortedWithVersions() {
    SnapshotStore store = open();
    List<SnapshotKey> inside =
        List.of(key("a"), key("b"), key("b\uFFFF"), key("c-\uD83D\uDE00"));
    List<SnapshotKey> outside =
        List.of(
            new SnapshotKey("hub:7000", "world", "guests", "a"),
            new SnapshotKey("hub:7000", "world", "gues", "a"),
            new SnapshotKey("hub:7000", "world2", "guest", "a"),
            new SnapshotKey("hub:70001", "world", "guest", "a"),
            new SnapshotKey("hub:7000", "worl", "d", "guest"));
    long v = 1;
    for (SnapshotKey k : outside) {
      store.put(k, snap(k, v++));
    }
    Map<SnapshotKey, Long> expected = new LinkedHashMap<>();
    for (SnapshotKey k : inside) {
      store.put(k, snap(k, v));
      expected.put(k, v++);
    }
    for (boolean committed : new boolean[] {false, true}) {
      if (committed) {
        store.flush();
      }
      List<SnapshotEntry> listed = store.list(SnapshotPrefix.of("hub:7000", "world", "guest"));
      assertThat(listed).extracting(SnapshotEntry::key).containsExactlyElementsOf(inside);
      assertThat(listed).allSatisfy(e -> assertThat(e.version()).isEqualTo(expected.get(e.key())));
      assertThat(listed).allSatisfy(e -> assertThat(e.stateSize()).isEqualTo(100));
    }
    assertThat(store.list(SnapshotPrefix.of("hub:7000", "world"))).hasSize(6);
    assertThat(store.list(SnapshotPrefix.of("hub:7000"))).hasSize(8);
    assertThat(store.list(SnapshotPrefix.all())).hasSize(9);
  }

  @Test
  void readersNeverSeeHalfABatch() throws Exception {
    SnapshotStore store = open(builder(dir).writeBatchSize(7).writeInterval(Duration.ofMillis(1)));
    SnapshotPrefix prefix = SnapshotPrefix.of("hub:7000", "world", "guest");
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<String> torn = new ConcurrentLinkedQueue<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> reader =
          pool.submit(
              () -> {
                while (!stop.get()) {
                  List<SnapshotEntry> l = store.list(prefix);
                  if (!l.isEmpty() && l.stream().anyMatch(e -> e.version() != l.get(0).version())) {
                    torn.add(l.toString());
                  }
                }
              });
      for (long v = 1; v <= 300; v++) {
        Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++) {
          batch.put(key("k" + i), snap(key("k" + i), v));
        }
        store.putAll(batch);
      }
      stop.set(true);
      reader.get(30, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    assertThat(torn).isEmpty();
    store.flush();
    assertThat(store.list(prefix)).hasSize(10).allSatisfy(e -> assertThat(e.version()).isEqualTo(300));
  }

  @Test
  void batchIsCommittedWhole() {
    SnapshotStore store = open(builder(dir).writeBatchSize(3));
    Map<SnapshotKey, Snapshot> batch = new LinkedHashMap<>();
    for (int i = 0; i < 10; i++) {
      batch.put(key("k" + i), snap(key("k" + i), 5));
    }
    store.putAll(batch);
    store.flush();
    assertThat(store.stats().commits()).isEqualTo(1);
    for (SnapshotKey k : batch.keySet()) {
      assertThat(store.get(k)).contains(batch.get(k));
    }
  }

  @Test
  void evictionRemovesTheLeastRecentlyUsedFirst() {
    long perEntry;
    try (SnapshotStore probe = SnapshotStore.builder().backend(StoreBackend.MEMORY).build()) {
      probe.put(key("a"), snap(key("a"), 1));
      perEntry = probe.stats().bytes();
    }
    SnapshotStore store = open(builder(dir).budgetBytes(3 * perEntry));
    store.put(key("a"), snap(key("a"), 1));
    store.put(key("b"), snap(key("b"), 1));
    store.put(key("c"), snap(key("c"), 1));
    store.flush();
    assertThat(store.get(key("a"))).isPresent(); // a is now more recent than b
    store.put(key("d"), snap(key("d"), 1));
    assertThat(store.get(key("b"))).isEmpty();
    assertThat(store.list(SnapshotPrefix.all()))
        .extracting(e -> e.key().identity())
        .containsExactly("a", "c", "d");
    store.put(key("e"), snap(key("e"), 1)); // c is now the least recently used
    assertThat(store.list(SnapshotPrefix.all()))
        .extracting(e -> e.key().identity())
        .containsExactly("a", "d", "e");
    assertThat(store.stats().evictions()).isEqualTo(2);
    assertThat(store.stats().bytes()).isLessThanOrEqualTo(3 * perEntry);
  }

  @Test
  void anEntryLargerThanTheBudgetIsNotKept() {
    SnapshotStore store = open(builder(dir).budgetBytes(1000));
    SnapshotKey k = key("big");
    store.put(k, Snapshot.of(1, 1, new byte[5000]));
    assertThat(store.get(k)).isEmpty();
    assertThat(store.size()).isZero();
  }

  @Test
  void concurrentReadersAndWritersOnlySeeWhatWasWritten() throws Exception {
    SnapshotStore store = open(builder(dir).writeBatchSize(50).writeInterval(Duration.ofMillis(5)));
    int writers = 3;
    int readers = 3;
    int keysPerWriter = 40;
    int rounds = 25;
    ExecutorService pool = Executors.newFixedThreadPool(writers + readers);
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean writing = new AtomicBoolean(true);
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    List<Future<?>> futures = new ArrayList<>();
    try {
      for (int w = 0; w < writers; w++) {
        int id = w;
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  for (long v = 1; v <= rounds; v++) {
                    for (int i = 0; i < keysPerWriter; i++) {
                      SnapshotKey k = key("w" + id + "-" + i);
                      store.put(k, snap(k, v));
                    }
                  }
                  return null;
                }));
      }
      for (int r = 0; r < readers; r++) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  while (writing.get()) {
                    for (int w = 0; w < writers; w++) {
                      for (int i = 0; i < keysPerWriter; i++) {
                        SnapshotKey k = key("w" + w + "-" + i);
                        Optional<Snapshot> s = store.get(k);
                        if (s.isPresent() && !s.get().equals(snap(k, s.get().version()))) {
                          wrong.add(k + " v" + s.get().version());
                        }
                      }
                    }
                  }
                  return null;
                }));
      }
      start.countDown();
      for (int i = 0; i < writers; i++) {
        futures.get(i).get(60, TimeUnit.SECONDS);
      }
      writing.set(false);
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(wrong).isEmpty();
    store.flush();
    assertThat(store.size()).isEqualTo(writers * keysPerWriter);
    for (int w = 0; w < writers; w++) {
      for (int i = 0; i < keysPerWriter; i++) {
        SnapshotKey k = key("w" + w + "-" + i);
        assertThat(store.get(k)).contains(snap(k, rounds));
      }
    }
  }

  @Test
  void closeAndReopenKeepsEverythingIncludingUnflushedWrites() {
    SnapshotStore store = builder(dir).writeInterval(Duration.ofHours(1)).build();
    for (int i = 0; i < 50; i++) {
      store.put(key("k" + i), snap(key("k" + i), i));
    }
    store.remove(key("k7"));
    store.close();
    store.close(); // idempotent
    SnapshotStore again = open();
    if (persistent()) {
      assertThat(again.size()).isEqualTo(49);
      assertThat(again.get(key("k3"))).contains(snap(key("k3"), 3));
      assertThat(again.get(key("k7"))).isEmpty();
      assertThat(again.verify().ok()).isTrue();
      assertThat(again.verify().checked()).isEqualTo(49);
    } else {
      assertThat(again.size()).isZero();
    }
  }

  @Test
  void writesAreCommittedInTheBackgroundWithinTheInterval() {
    SnapshotStore store = open(builder(dir).writeInterval(Duration.ofMillis(20)));
    store.putAll(Map.of(key("a"), snap(key("a"), 1), key("b"), snap(key("b"), 1)));
    await().atMost(Duration.ofSeconds(10)).until(() -> store.stats().commits() >= 1);
    store.put(key("c"), snap(key("c"), 1));
    await().atMost(Duration.ofSeconds(10)).until(() -> store.stats().commits() >= 2);
    store.remove(key("a"));
    await().atMost(Duration.ofSeconds(10)).until(() -> store.stats().commits() >= 3);
    assertThat(store.stats().queuedWrites()).isZero();
  }

  @Test
  void writesAreCommittedWhenTheBatchFillsUp() {
    SnapshotStore store = open(builder(dir).writeBatchSize(5).writeInterval(Duration.ofHours(1)));
    for (int i = 0; i < 5; i++) {
      store.put(key("k" + i), snap(key("k" + i), 1));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> store.stats().commits() >= 1);
  }

  @Test
  void aFullQueueDropsTheBatchAndItsKeysReadAsMisses() {
    SnapshotStore store =
        open(builder(dir).writeBatchSize(2).writeQueueBound(2).writeInterval(Duration.ofHours(1)));
    SnapshotKey old = key("old");
    store.put(old, snap(old, 1));
    store.flush();
    Map<SnapshotKey, Snapshot> tooBig = new LinkedHashMap<>();
    for (String id : List.of("old", "x", "y")) {
      tooBig.put(key(id), snap(key(id), 2));
    }
    store.putAll(tooBig);
    assertThat(store.stats().droppedWrites()).isEqualTo(3);
    assertThat(store.get(old)).isEmpty(); // never the stale version 1
    assertThat(store.get(key("x"))).isEmpty();
    store.flush();
    assertThat(store.size()).isZero();
  }

  @Test
  void statsCountHitsMissesAndEntries() {
    SnapshotStore store = open();
    store.put(key("a"), snap(key("a"), 1));
    store.get(key("a"));
    store.get(key("zz"));
    StoreStats s = store.stats();
    assertThat(s.entries()).isEqualTo(1);
    assertThat(s.hits()).isEqualTo(1);
    assertThat(s.misses()).isEqualTo(1);
    assertThat(s.bytes()).isPositive();
  }

  @Test
  void aClosedStoreRefusesCalls() {
    SnapshotStore store = open();
    store.close();
    assertThatThrownBy(() -> store.get(key("a")))
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("closed")
        .satisfies(e -> assertThat(((StoreException) e).reason()).isEqualTo(StoreException.Reason.CLOSED));
  }
}
