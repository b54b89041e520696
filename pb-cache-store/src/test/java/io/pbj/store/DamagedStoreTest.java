package io.pbj.store;

import static io.pbj.store.StoreDamage.key;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Damage found after open (tracker issue 9, item 10): a file that passes the checks at open but
 * fails when read, zeroed pages, absurd lengths, truncation. Whatever the damage, the store never
 * hands back a snapshot that was not written, never lets anything but a {@link StoreException}
 * out, and after the first failure is usable again (quarantined and empty, or still serving what
 * is intact).
 */
class DamagedStoreTest {
  @TempDir Path dir;

  private static final int KEYS = 200;
  private static final int STATE = 600;
  /** Written once at version 1 and never rewritten or removed by {@link StoreDamage#writeStore}. */
  private static final int VICTIM = 52;

  private SnapshotStore open(StoreBackend b, Path file) {
    return SnapshotStore.builder().backend(b).path(file).build();
  }

  private static long allocatedByThisThread() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
        .getThreadAllocatedBytes(Thread.currentThread().getId());
  }

  /** Offsets of the victim's entry record (its 'E' tag) in the file. */
  private static List<Integer> victimRecords(byte[] file) {
    List<Integer> out = new ArrayList<>();
    for (int m : StoreDamage.find(file, StoreDamage.marker(VICTIM, 1))) {
      int record = m - 26; // tag, record version, version, storedAt, formatVersion, length
      assertThat(file[record]).as("entry tag before the state at %d", m).isEqualTo((byte) 'E');
      out.add(record);
    }
    assertThat(out).as("victim records in the file").isNotEmpty();
    return out;
  }

  /** Length of the victim's entry record, as {@link StoreDamage#writeStore} made it. */
  private static int victimRecordLength() {
    return 26 + StoreDamage.snapshot(VICTIM, 1, STATE + (VICTIM * 37) % STATE).stateSize() + 4;
  }

  /** How the backend writes the length in front of a byte array value. */
  private static byte[] lengthPrefix(StoreBackend b, int length) {
    if (b == StoreBackend.MAPDB) {
      org.mapdb.DataOutput2 out = new org.mapdb.DataOutput2();
      try {
        out.packInt(length);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return out.copyBytes();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int v = length;
    while ((v & ~0x7F) != 0) {
      out.write((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    out.write(v);
    return out.toByteArray();
  }

  /**
   * Rewrites the length in front of every copy of the victim's value so the backend reads
   * {@code claimed} (its own bytes, then as many of the record's first bytes as needed).
   */
  private static void claimLength(StoreBackend b, Path file, int claimed) throws Exception {
    byte[] data = Files.readAllBytes(file);
    byte[] real = lengthPrefix(b, victimRecordLength());
    byte[] fake = lengthPrefix(b, claimed);
    for (int record : victimRecords(data)) {
      int prefix = record - real.length;
      assertThat(Arrays.copyOfRange(data, prefix, record)).as("length prefix at %d", prefix).isEqualTo(real);
      StoreDamage.overwrite(file, prefix, fake);
    }
  }

  // ---- the reported cases ----

  @Test
  void anMvStoreChunkDamagedPastTheOpenChecksIsQuarantinedOnFirstReadAndTheSessionGoesOn() throws Exception {
    Path file = StoreDamage.file(dir, StoreBackend.MVSTORE, "s");
    StoreDamage.Written w = StoreDamage.writeStore(StoreBackend.MVSTORE, file, KEYS, STATE);
    // The byte before the value's length is its type tag (0x0e, then 0x01 for byte[]); 52 is the
    // "Unknown tag 52" of the report. Open reads the index and counts, not every entry leaf.
    byte[] data = Files.readAllBytes(file);
    int prefix = lengthPrefix(StoreBackend.MVSTORE, victimRecordLength()).length;
    for (int record : victimRecords(data)) {
      int tag = record - prefix - 2;
      assertThat(data[tag]).isEqualTo((byte) 0x0e);
      assertThat(data[tag + 1]).isEqualTo((byte) 0x01);
      StoreDamage.overwrite(file, tag, new byte[] {52});
    }
    try (SnapshotStore s = open(StoreBackend.MVSTORE, file)) {
      long live = s.size();
      assertThat(s.stats().quarantines()).as("the damage passes the checks at open").isZero();
      assertThat(live).isPositive();

      assertThat(s.get(key(VICTIM))).isEmpty();

      assertThat(s.stats().quarantines()).isEqualTo(1);
      assertThat(StoreDamage.quarantined(dir)).hasSize(1);
      assertThat(s.size()).as("the quarantined file's entries are gone, not half there").isZero();
      // Every other read is now an honest miss; the session continues from the server.
      assertThat(s.getAll(w.keys())).isEmpty();
      SnapshotKey fresh = key(9999);
      s.put(fresh, StoreDamage.snapshot(9999, 7, 100));
      s.flush();
      assertThat(s.get(fresh)).contains(StoreDamage.snapshot(9999, 7, 100));
    }
    // The next session does not fail the same way: it opens the new file, clean.
    try (SnapshotStore s = open(StoreBackend.MVSTORE, file)) {
      assertThat(s.size()).isEqualTo(1);
      assertThat(s.verify().ok()).isTrue();
      assertThat(s.stats().quarantines()).isZero();
    }
    assertThat(StoreDamage.quarantined(dir)).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void anAbsurdValueLengthIsCheckedBeforeAnythingIsAllocated(StoreBackend b) throws Exception {
    Path file = StoreDamage.file(dir, b, "s");
    StoreDamage.writeStore(b, file, KEYS, STATE);
    claimLength(b, file, 1 << 30);
    try (SnapshotStore s = open(b, file)) {
      assertThat(s.stats().quarantines()).as("the damage passes the checks at open").isZero();
      long before = allocatedByThisThread();
      Optional<Snapshot> got = s.get(key(VICTIM));
      long allocated = allocatedByThisThread() - before;
      assertThat(got).isEmpty();
      // A 1 GiB claim must not become a 1 GiB array (nor an OutOfMemoryError on a small heap).
      assertThat(allocated).as("bytes allocated by the failing read").isLessThan(16L << 20);
      assertThat(s.stats().quarantines()).isEqualTo(1);
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aNegativeValueLengthIsADamagedFileNotANegativeArraySize(StoreBackend b) throws Exception {
    Path file = StoreDamage.file(dir, b, "s");
    StoreDamage.Written w = StoreDamage.writeStore(b, file, KEYS, STATE);
    claimLength(b, file, -295830016);
    try (SnapshotStore s = open(b, file)) {
      assertThat(s.getAll(w.keys())).allSatisfy((k, v) -> assertThat(w.wasWritten(k, v)).isTrue());
      assertThat(s.get(key(VICTIM))).isEmpty();
      assertThat(s.stats().quarantines()).isEqualTo(1);
    }
  }

  /**
   * Zeroes each non-empty 4 KiB page of the file in turn (the MapDB report), and reads the whole
   * store after each: at most one quarantine, never a wrong snapshot, never an exception, and no
   * read allocating more than a bound (the file is a few hundred KiB; old MapDB asked for GiBs).
   */
  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void zeroingAnySinglePageNeverStrandsTheClient(StoreBackend b) throws Exception {
    Path golden = StoreDamage.file(dir, b, "golden");
    StoreDamage.Written w = StoreDamage.writeStore(b, golden, 60, 300);
    byte[] clean = Files.readAllBytes(golden);
    int used = StoreDamage.usedLength(clean);
    int pages = 0;
    int quarantined = 0;
    long worstAllocation = 0;
    for (int page = 0; page * 4096 < used; page++) {
      int at = page * 4096;
      int end = Math.min(clean.length, at + 4096);
      if (Arrays.equals(clean, at, end, new byte[end - at], 0, end - at)) {
        continue; // already zero: nothing to damage
      }
      pages++;
      Path file = StoreDamage.file(dir, b, "z" + at);
      byte[] d = clean.clone();
      Arrays.fill(d, at, end, (byte) 0);
      Files.write(file, d);
      long before = allocatedByThisThread();
      try (SnapshotStore s = open(b, file)) {
        for (SnapshotKey k : w.keys()) {
          s.get(k).ifPresent(v -> assertThat(w.wasWritten(k, v)).as("%s after zeroing page at %d", k, at).isTrue());
        }
        s.getAll(w.keys()).forEach((k, v) -> assertThat(w.wasWritten(k, v)).isTrue());
        s.verify();
        quarantined += (int) s.stats().quarantines();
        assertThat(s.stats().quarantines()).as("quarantines after zeroing page at %d", at).isLessThanOrEqualTo(1);
        SnapshotKey probe = key(7777);
        s.put(probe, StoreDamage.snapshot(7777, 1, 50));
        if (page % 4 == 0) {
          s.flush(); // a commit into whatever file the store now has (a commit costs an fsync)
        }
        assertThat(s.get(probe)).as("usable after zeroing page at %d", at).isPresent();
      } catch (RuntimeException | Error e) {
        throw new AssertionError("zeroing the page at " + at + " let " + e + " escape", e);
      }
      worstAllocation = Math.max(worstAllocation, allocatedByThisThread() - before);
    }
    System.out.printf("ZEROED PAGES %s: %d pages, %d quarantined, worst allocation %d KiB%n",
        b, pages, quarantined, worstAllocation >> 10);
    assertThat(pages).isPositive();
    assertThat(worstAllocation).as("bytes one session allocated on this thread").isLessThan(64L << 20);
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aStoreTruncatedToHalfIsReportedAsTruncatedWithTheNumbers(StoreBackend b) throws Exception {
    Path file = StoreDamage.file(dir, b, "s");
    StoreDamage.writeStore(b, file, KEYS, STATE);
    long size = Files.size(file);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size / 2);
    }
    assertThatThrownBy(() -> SnapshotStore.builder().backend(b).path(file).quarantineDamaged(false).build())
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("truncated")
        .hasMessageContaining(Long.toString(size / 2))
        .satisfies(e -> assertThat(((StoreException) e).reason()).isEqualTo(StoreException.Reason.DAMAGED));
    assertThat(StoreDamage.quarantined(dir)).isEmpty();

    try (SnapshotStore s = open(b, file)) {
      assertThat(s.size()).isZero();
      assertThat(s.stats().quarantines()).isEqualTo(1);
      assertThat(s.verify().ok()).isTrue();
    }
    assertThat(StoreDamage.quarantined(dir)).hasSize(1);
  }

  // ---- concurrency and the write-behind path ----

  @Test
  void concurrentReadersDuringAQuarantineSeeMissesOrRealSnapshotsAndOneQuarantine() throws Exception {
    Path file = StoreDamage.file(dir, StoreBackend.MVSTORE, "s");
    StoreDamage.Written w = StoreDamage.writeStore(StoreBackend.MVSTORE, file, KEYS, STATE);
    claimLength(StoreBackend.MVSTORE, file, 1 << 30);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    ConcurrentLinkedQueue<Throwable> escaped = new ConcurrentLinkedQueue<>();
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    try (SnapshotStore s = open(StoreBackend.MVSTORE, file)) {
      CyclicBarrier start = new CyclicBarrier(threads);
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int offset = t;
        done.add(pool.submit(() -> {
          start.await();
          List<SnapshotKey> keys = w.keys();
          keys.sort(Comparator.comparing(SnapshotKey::identity));
          for (int i = 0; i < keys.size(); i++) {
            SnapshotKey k = keys.get((i + offset * 25) % keys.size());
            try {
              s.get(k).ifPresent(v -> {
                if (!w.wasWritten(k, v)) {
                  wrong.add(k + " -> " + v);
                }
              });
              if (i % 50 == 0) {
                s.getAll(keys).forEach((kk, v) -> {
                  if (!w.wasWritten(kk, v)) {
                    wrong.add(kk + " -> " + v);
                  }
                });
              }
            } catch (Throwable e) {
              escaped.add(e);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(escaped).isEmpty();
      assertThat(wrong).isEmpty();
      assertThat(s.stats().quarantines()).as("one damaged file, one quarantine").isEqualTo(1);
      assertThat(StoreDamage.quarantined(dir)).hasSize(1);
    } finally {
      pool.shutdownNow();
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aWriteBehindCommitThatHitsDamageQuarantinesAndOnlyLosesThatBatch(StoreBackend b) throws Exception {
    Path file = StoreDamage.file(dir, b, "s");
    StoreDamage.writeStore(b, file, KEYS, STATE);
    try (SnapshotStore s = open(b, file)) {
      assertThat(s.stats().quarantines()).isZero();
      // Damaged while open, under a value the next commit must read (the put replaces it).
      claimLength(b, file, 1 << 30);
      Snapshot newer = StoreDamage.snapshot(VICTIM, 3, 100);
      s.put(key(VICTIM), newer);
      s.flush(); // returns: the failed batch is only cache

      assertThat(s.stats().quarantines()).isEqualTo(1);
      assertThat(s.get(key(VICTIM))).as("the lost batch reads as a miss, not as older data").isEmpty();
      SnapshotKey after = key(8888);
      s.put(after, StoreDamage.snapshot(8888, 1, 100));
      s.flush();
      assertThat(s.get(after)).isPresent();
      assertThat(s.stats().commits()).isPositive();
    }
    try (SnapshotStore s = open(b, file)) {
      assertThat(s.list(SnapshotPrefix.all())).extracting(SnapshotEntry::key).containsExactly(key(8888));
    }
  }

  // ---- the public API on a damaged store ----

  /**
   * Calls every method of {@link SnapshotStore} (found by reflection, so a new method is covered
   * or fails here for want of sample arguments), each on a freshly damaged store: with quarantine
   * on nothing escapes; with it off only {@link StoreException}s do, never a MapDB, H2 or Kotlin
   * exception, which may only be a cause.
   */
  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void everyPublicMethodOnADamagedStoreThrowsNothingButStoreException(StoreBackend b) throws Exception {
    Path golden = StoreDamage.file(dir, b, "golden");
    StoreDamage.Written w = StoreDamage.writeStore(b, golden, VICTIM + 8, STATE);
    claimLength(b, golden, 1 << 30);
    List<Method> methods = Arrays.stream(SnapshotStore.class.getMethods())
        .filter(m -> !Modifier.isStatic(m.getModifiers()))
        .sorted(Comparator.comparing(Method::toString))
        .toList();
    assertThat(methods).extracting(Method::getName).contains("get", "getAll", "verify", "flush", "close");
    // Quarantine on: each method meets the damage on a fresh copy, and nothing escapes.
    int n = 0;
    for (Method m : methods) {
      Path file = StoreDamage.file(dir, b, "copy" + n++);
      Files.copy(golden, file);
      SnapshotStore s = open(b, file);
      try {
        m.invoke(s, sampleArguments(m, w));
        s.close(); // commits whatever the method queued, against the damaged file
      } catch (InvocationTargetException e) {
        throw new AssertionError(m.getName() + " with quarantine on let " + e.getCause() + " escape", e.getCause());
      } finally {
        s.close();
      }
    }
    // Quarantine off: the damage stays, so one store meets it in every method, close last.
    int quarantinedBefore = StoreDamage.quarantined(dir).size();
    Path file = StoreDamage.file(dir, b, "kept");
    Files.copy(golden, file);
    SnapshotStore s = SnapshotStore.builder().backend(b).path(file).quarantineDamaged(false).build();
    List<String> threw = new ArrayList<>();
    List<String> damagedReports = new ArrayList<>();
    List<Method> closeLast = new ArrayList<>(methods);
    closeLast.sort(Comparator.comparing(m -> m.getName().equals("close")));
    try {
      for (Method m : closeLast) {
        try {
          Object result = m.invoke(s, sampleArguments(m, w));
          if (result instanceof VerifyResult r) {
            damagedReports.addAll(r.damaged());
          }
        } catch (InvocationTargetException e) {
          Throwable thrown = e.getCause();
          assertThat(thrown).as("%s with quarantine off", m.getName()).isInstanceOf(StoreException.class);
          assertThat(((StoreException) thrown).reason()).isEqualTo(StoreException.Reason.DAMAGED);
          assertThat(thrown.getMessage()).contains(file.getFileName().toString());
          threw.add(m.getName());
        }
      }
    } finally {
      s.close();
    }
    assertThat(threw).as("methods that threw with quarantine off").contains("get");
    assertThat(damagedReports).as("verify with quarantine off reports the damage").isNotEmpty();
    assertThat(StoreDamage.quarantined(dir)).as("quarantine off moves nothing").hasSize(quarantinedBefore);
  }

  private static Object[] sampleArguments(Method m, StoreDamage.Written w) {
    Class<?>[] types = m.getParameterTypes();
    Object[] args = new Object[types.length];
    for (int i = 0; i < types.length; i++) {
      Class<?> t = types[i];
      if (t == SnapshotKey.class) {
        args[i] = key(VICTIM);
      } else if (t == Snapshot.class) {
        args[i] = StoreDamage.snapshot(VICTIM, 5, 64);
      } else if (t == SnapshotPrefix.class) {
        args[i] = SnapshotPrefix.all();
      } else if (t == Collection.class) {
        args[i] = w.keys();
      } else if (t == Map.class) {
        args[i] = Map.of(key(VICTIM), StoreDamage.snapshot(VICTIM, 5, 64), key(VICTIM + 3), StoreDamage.snapshot(VICTIM + 3, 5, 64));
      } else {
        fail("no sample argument for " + t.getName() + " in " + m + "; add one");
      }
    }
    return args;
  }
}
