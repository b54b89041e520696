package io.pbj.store.internal;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import io.pbj.store.StoreStats;
import io.pbj.store.VerifyResult;
import io.pbj.store.internal.Codec.CorruptRecordException;
import io.pbj.store.internal.Codec.Header;
import io.pbj.store.internal.Codec.IndexRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one {@link SnapshotStore} implementation: an in-memory ordered index and LRU list over a
 * {@link Tables} backend, with a single write-behind thread.
 *
 * <p>Thread-safe. One lock guards the index, the LRU order and the write queue; it is never held
 * during disk I/O. Readers look in the queue first, then in the batch being committed, then on
 * disk, so a change is visible as soon as the call that made it returns.
 *
 * <pre>{@code
 * SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
 * }</pre>
 */
public final class DefaultSnapshotStore implements SnapshotStore {
  private static final Logger log = LoggerFactory.getLogger(DefaultSnapshotStore.class);

  private final StoreConfig config;
  private final Tables tables;
  private final StoreFiles.Lock fileLock;
  private final Thread writer;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Condition committed = lock.newCondition();

  // Guarded by lock.
  private final TreeMap<String, Meta> sorted = new TreeMap<>();
  private final LinkedHashMap<String, Meta> lru = new LinkedHashMap<>(1024, 0.75f, true);
  private long totalBytes;
  private LinkedHashMap<String, Op> pending = new LinkedHashMap<>();
  private int pendingPuts;
  private long firstPendingNanos;
  private Map<String, Op> inFlight = Map.of();
  private long enqueuedSeq;
  private long committedSeq;
  private boolean flushRequested;
  private boolean writerIdle;
  private boolean closing;
  private boolean closed;
  private long evictions;
  private long dropped;
  private long commits;

  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder checksumFailures = new LongAdder();

  /** What the index knows about an entry without reading it. */
  private record Meta(SnapshotKey key, long version, int stateSize, long storedAtMillis, long bytes) {}

  /** A queued change: a put (with its encoded records) or a remove. */
  private record Op(String key, byte[] entry, byte[] index) {
    boolean isPut() {
      return entry != null;
    }
  }

  private DefaultSnapshotStore(StoreConfig config, Tables tables, StoreFiles.Lock fileLock) {
    this.config = config;
    this.tables = tables;
    this.fileLock = fileLock;
    loadIndex();
    String name = config.path() == null ? "memory" : config.path().getFileName().toString();
    this.writer = new Thread(this::writeLoop, "pbj-store-writer-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  /** Opens a store as configured; see {@code SnapshotStoreBuilder#build()}. */
  public static SnapshotStore open(StoreConfig config) {
    Objects.requireNonNull(config, "config");
    if (config.backend() == StoreBackend.MEMORY) {
      Tables t = new MemoryTables();
      writeHeader(t, new Header(Codec.FORMAT_VERSION, 0, 0));
      return new DefaultSnapshotStore(config, t, null);
    }
    Path path = config.path().toAbsolutePath();
    StoreFiles.Lock fileLock = StoreFiles.lock(path);
    try {
      Tables t = openValidated(config, path);
      return new DefaultSnapshotStore(config, t, fileLock);
    } catch (RuntimeException | Error e) {
      fileLock.release();
      throw e;
    }
  }

  private static Tables openValidated(StoreConfig config, Path path) {
    boolean existed = Files.exists(path);
    if (!existed && !config.createIfMissing()) {
      throw new StoreException(
          StoreException.Reason.NOT_FOUND, "snapshot store " + path + " does not exist");
    }
    String problem;
    Throwable cause = null;
    Tables t = null;
    try {
      // Refuse a foreign file before the backend sees it: MapDB would otherwise grow it in place.
      problem = existed ? StoreFiles.foreignHeader(path, config.backend()) : null;
      if (problem == null) {
        t = openTables(config.backend(), path);
        problem = validate(t, existed);
      }
      if (problem == null) {
        return t;
      }
    } catch (StoreException e) {
      closeQuietly(t);
      throw e;
    } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
      problem = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      cause = e;
    }
    closeQuietly(t);
    String what = "snapshot store " + path + " (" + config.backend() + ") is damaged or not a store: " + problem;
    if (!config.quarantineDamaged()) {
      throw new StoreException(StoreException.Reason.DAMAGED, what, cause);
    }
    Path aside = StoreFiles.quarantine(path, config.backend());
    log.warn("{}; moved it to {} and started an empty store", what, aside);
    Tables fresh = openTables(config.backend(), path);
    writeHeader(fresh, new Header(Codec.FORMAT_VERSION, 0, 0));
    return fresh;
  }

  private static Tables openTables(StoreBackend backend, Path path) {
    try {
      Path parent = path.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (java.io.IOException e) {
      throw new StoreException(StoreException.Reason.IO, "cannot create directory for " + path, e);
    }
    return backend == StoreBackend.MAPDB ? new MapDbTables(path) : new MvStoreTables(path);
  }

  /** Null when the tables hold a valid store (creating the header of a new one), else why not. */
  private static String validate(Tables t, boolean existed) {
    byte[] raw = t.meta().get(Codec.HEADER_KEY);
    if (raw == null) {
      if (t.index().isEmpty() && t.entries().isEmpty() && t.meta().isEmpty()) {
        if (existed) {
          log.info("snapshot store file exists but holds no header; initialising it");
        }
        writeHeader(t, new Header(Codec.FORMAT_VERSION, 0, 0));
        return null;
      }
      return "no PBJ store header";
    }
    Header h;
    try {
      h = Codec.decodeHeader(raw);
    } catch (CorruptRecordException e) {
      return e.getMessage();
    }
    if (h.formatVersion() > Codec.FORMAT_VERSION) {
      throw new StoreException(
          StoreException.Reason.UNSUPPORTED_FORMAT,
          "snapshot store format " + h.formatVersion() + " is newer than this code reads (up to "
              + Codec.FORMAT_VERSION + "); use a newer PBJ or delete the file");
    }
    if (h.formatVersion() != Codec.FORMAT_VERSION) {
      return "unknown store format " + h.formatVersion();
    }
    long count = 0;
    long bytes = 0;
    for (Map.Entry<String, byte[]> e : t.index().entrySet()) {
      try {
        Codec.decodeKey(e.getKey());
        IndexRecord r = Codec.decodeIndex(e.getKey(), e.getValue());
        bytes += Codec.accountedBytes(e.getKey(), r.stateSize());
      } catch (CorruptRecordException | IllegalArgumentException ex) {
        return "index entry " + e.getKey().replace('\u0000', '/') + ": " + ex.getMessage();
      }
      count++;
    }
    if (count != h.count() || bytes != h.bytes()) {
      return "index holds " + count + " entries / " + bytes + " bytes but the header says "
          + h.count() + " / " + h.bytes();
    }
    int entryCount = t.entries().size();
    if (entryCount != count) {
      return "store holds " + entryCount + " entries but its index " + count;
    }
    return null;
  }

  private static void writeHeader(Tables t, Header h) {
    t.meta().put(Codec.HEADER_KEY, Codec.encodeHeader(h));
    t.commit();
  }

  private static void closeQuietly(Tables t) {
    if (t == null) {
      return;
    }
    try {
      t.close();
    } catch (RuntimeException | Error e) {
      log.debug("closing a damaged store failed", e);
    }
  }

  private void loadIndex() {
    List<Map.Entry<String, Meta>> all = new ArrayList<>();
    for (Map.Entry<String, byte[]> e : tables.index().entrySet()) {
      IndexRecord r = Codec.decodeIndex(e.getKey(), e.getValue());
      Meta m = meta(Codec.decodeKey(e.getKey()), e.getKey(), r.version(), r.stateSize(), r.storedAtMillis());
      all.add(Map.entry(e.getKey(), m));
    }
    // No access times survive a restart (recording them would cost a commit per read), so the
    // oldest-stored entries are the first to go.
    all.sort(Comparator.comparingLong(e -> e.getValue().storedAtMillis()));
    lock.lock();
    try {
      for (Map.Entry<String, Meta> e : all) {
        sorted.put(e.getKey(), e.getValue());
        lru.put(e.getKey(), e.getValue());
        totalBytes += e.getValue().bytes();
      }
      evictIfNeeded();
    } finally {
      lock.unlock();
    }
  }

  private static Meta meta(SnapshotKey key, String k, long version, int size, long storedAt) {
    return new Meta(key, version, size, storedAt, Codec.accountedBytes(k, size));
  }

  // ---- reads ----

  @Override
  public Optional<Snapshot> get(SnapshotKey key) {
    Objects.requireNonNull(key, "key");
    String k = Codec.key(key);
    Op op;
    Meta m;
    lock.lock();
    try {
      checkOpen();
      op = pending.get(k);
      if (op == null) {
        op = inFlight.get(k);
      }
      m = lru.get(k); // records the access
    } finally {
      lock.unlock();
    }
    byte[] raw;
    if (op != null) {
      raw = op.entry();
    } else if (m != null) {
      raw = tables.entries().get(k);
    } else {
      raw = null;
    }
    if (raw == null) {
      misses.increment();
      return Optional.empty();
    }
    try {
      Snapshot s = Codec.decodeEntry(k, raw);
      hits.increment();
      return Optional.of(s);
    } catch (CorruptRecordException e) {
      checksumFailures.increment();
      misses.increment();
      log.warn("snapshot store entry {} failed its check ({}); treating it as a miss and removing it",
          key, e.getMessage());
      dropDamaged(k);
      return Optional.empty();
    }
  }

  /** A scan is used when the range read holds at most this many entries per key wanted. */
  private static final int SCAN_DENSITY = 4;

  /** Fewer keys than this are looked up one by one. */
  private static final int SCAN_MIN_KEYS = 16;

  @Override
  public Map<SnapshotKey, Snapshot> getAll(Collection<SnapshotKey> keys) {
    Objects.requireNonNull(keys, "keys");
    TreeMap<String, SnapshotKey> wanted = new TreeMap<>();
    for (SnapshotKey key : keys) {
      wanted.put(Codec.key(Objects.requireNonNull(key, "key")), key);
    }
    Map<String, byte[]> raw = new HashMap<>(wanted.size() * 2);
    List<String> committed = new ArrayList<>(wanted.size());
    boolean scan;
    lock.lock();
    try {
      checkOpen();
      for (String k : wanted.keySet()) {
        Op op = pending.get(k);
        if (op == null) {
          op = inFlight.get(k);
        }
        Meta m = lru.get(k); // records the access
        if (op != null) {
          raw.put(k, op.entry());
        } else if (m != null) {
          committed.add(k);
        }
      }
      scan = committed.size() >= SCAN_MIN_KEYS
          && dense(committed.get(0), committed.get(committed.size() - 1),
              (long) committed.size() * SCAN_DENSITY);
    } finally {
      lock.unlock();
    }
    if (scan) {
      Set<String> need = new HashSet<>(committed);
      tables.scanEntries(committed.get(0), committed.get(committed.size() - 1), (k, v) -> {
        if (need.contains(k)) {
          raw.putIfAbsent(k, v);
        }
      });
    } else {
      for (String k : committed) {
        byte[] v = tables.entries().get(k);
        if (v != null) {
          raw.put(k, v);
        }
      }
    }
    Map<SnapshotKey, Snapshot> out = new HashMap<>(raw.size() * 2);
    for (Map.Entry<String, SnapshotKey> w : wanted.entrySet()) {
      byte[] r = raw.get(w.getKey());
      if (r == null) {
        misses.increment();
        continue;
      }
      try {
        out.put(w.getValue(), Codec.decodeEntry(w.getKey(), r));
        hits.increment();
      } catch (CorruptRecordException e) {
        checksumFailures.increment();
        misses.increment();
        log.warn("snapshot store entry {} failed its check ({}); treating it as a miss and"
            + " removing it", w.getValue(), e.getMessage());
        dropDamaged(w.getKey());
      }
    }
    return out;
  }

  /** Whether at most {@code limit} entries lie from {@code first} to {@code last}; lock held. */
  private boolean dense(String first, String last, long limit) {
    long n = 0;
    for (String ignored : sorted.subMap(first, true, last, true).keySet()) {
      if (++n > limit) {
        return false;     // stop counting: a sparse range is read key by key
      }
    }
    return true;
  }

  private void dropDamaged(String k) {
    lock.lock();
    try {
      if (!closing && !pending.containsKey(k)) {
        removeLocked(k);
        signalWriter();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<SnapshotEntry> list(SnapshotPrefix prefix) {
    Objects.requireNonNull(prefix, "prefix");
    String lo = Codec.lowerBound(prefix);
    lock.lock();
    try {
      checkOpen();
      SortedMap<String, Meta> range = lo == null ? sorted : sorted.subMap(lo, Codec.upperBound(prefix));
      List<SnapshotEntry> out = new ArrayList<>(range.size());
      for (Meta m : range.values()) {
        out.add(new SnapshotEntry(m.key(), m.version(), m.stateSize()));
      }
      return out;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public long size() {
    lock.lock();
    try {
      checkOpen();
      return sorted.size();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public StoreStats stats() {
    lock.lock();
    try {
      checkOpen();
      return new StoreStats(
          config.backend(),
          sorted.size(),
          totalBytes,
          config.budgetBytes(),
          hits.sum(),
          misses.sum(),
          checksumFailures.sum(),
          evictions,
          pending.size() + inFlight.size(),
          dropped,
          commits,
          tables.fileBytes());
    } finally {
      lock.unlock();
    }
  }

  // ---- writes ----

  @Override
  public void put(SnapshotKey key, Snapshot snapshot) {
    putAll(Map.of(Objects.requireNonNull(key, "key"), Objects.requireNonNull(snapshot, "snapshot")));
  }

  @Override
  public void putAll(Map<SnapshotKey, Snapshot> batch) {
    Objects.requireNonNull(batch, "batch");
    List<Op> ops = new ArrayList<>(batch.size());
    List<Meta> metas = new ArrayList<>(batch.size());
    for (Map.Entry<SnapshotKey, Snapshot> e : batch.entrySet()) {
      SnapshotKey key = Objects.requireNonNull(e.getKey(), "batch key");
      Snapshot s = Objects.requireNonNull(e.getValue(), "batch value for " + key);
      String k = Codec.key(key);
      ops.add(new Op(k, Codec.encodeEntry(k, s), Codec.encodeIndex(k, s)));
      metas.add(meta(key, k, s.version(), s.stateSize(), s.storedAt().toEpochMilli()));
    }
    if (ops.isEmpty()) {
      return;
    }
    lock.lock();
    try {
      checkOpen();
      int newPuts = 0;
      for (Op op : ops) {
        Op prev = pending.get(op.key());
        if (prev == null || !prev.isPut()) {
          newPuts++;
        }
      }
      if (pendingPuts + newPuts > config.writeQueueBound()) {
        // Queue full: the whole batch is dropped, and the keys read as misses, never stale.
        dropped += ops.size();
        for (Op op : ops) {
          removeLocked(op.key());
        }
        log.debug("write-behind queue full ({} puts); dropped a batch of {}", pendingPuts, ops.size());
      } else {
        for (int i = 0; i < ops.size(); i++) {
          Op op = ops.get(i);
          Meta m = metas.get(i);
          enqueue(op);
          Meta old = sorted.put(op.key(), m);
          if (old != null) {
            totalBytes -= old.bytes();
          }
          lru.put(op.key(), m);
          totalBytes += m.bytes();
        }
        evictIfNeeded();
      }
      signalWriter();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void remove(SnapshotKey key) {
    String k = Codec.key(Objects.requireNonNull(key, "key"));
    lock.lock();
    try {
      checkOpen();
      removeLocked(k);
      signalWriter();
    } finally {
      lock.unlock();
    }
  }

  private void removeLocked(String k) {
    Meta old = sorted.remove(k);
    lru.remove(k);
    if (old != null) {
      totalBytes -= old.bytes();
    }
    if (old != null || pending.containsKey(k) || inFlight.containsKey(k)) {
      enqueue(new Op(k, null, null));
    }
  }

  private void enqueue(Op op) {
    Op prev = pending.remove(op.key()); // re-insert so queue order follows the latest change
    if (prev != null && prev.isPut()) {
      pendingPuts--;
    }
    if (pending.isEmpty()) {
      firstPendingNanos = System.nanoTime();
    }
    pending.put(op.key(), op);
    if (op.isPut()) {
      pendingPuts++;
    }
    enqueuedSeq++;
  }

  private void evictIfNeeded() {
    Iterator<Map.Entry<String, Meta>> it = lru.entrySet().iterator();
    List<String> victims = new ArrayList<>();
    long bytes = totalBytes;
    while (bytes > config.budgetBytes() && it.hasNext()) {
      Map.Entry<String, Meta> e = it.next();
      victims.add(e.getKey());
      bytes -= e.getValue().bytes();
    }
    for (String k : victims) {
      removeLocked(k);
      evictions++;
    }
  }

  private void signalWriter() {
    // An idle writer waits without a deadline and must learn that the interval has started.
    if (writerIdle || pendingPuts >= config.writeBatchSize() || flushRequested) {
      work.signal();
    }
  }

  @Override
  public void flush() {
    lock.lock();
    try {
      checkOpen();
      long target = enqueuedSeq;
      if (committedSeq >= target) {
        return;
      }
      flushRequested = true;
      work.signal();
      while (committedSeq < target && writer.isAlive()) {
        committed.await(100, TimeUnit.MILLISECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreException(StoreException.Reason.IO, "interrupted while flushing the store", e);
    } finally {
      lock.unlock();
    }
  }

  // ---- the writer thread ----

  private void writeLoop() {
    while (true) {
      Map<String, Op> batch;
      long seq;
      lock.lock();
      try {
        long intervalNanos = config.writeInterval().toNanos();
        while (true) {
          if (closing || flushRequested) {
            break;
          }
          if (pending.isEmpty()) {
            writerIdle = true;
            try {
              work.await();
            } finally {
              writerIdle = false;
            }
            continue;
          }
          if (pendingPuts >= config.writeBatchSize()) {
            break;
          }
          long wait = firstPendingNanos + intervalNanos - System.nanoTime();
          if (wait <= 0) {
            break;
          }
          work.awaitNanos(wait);
        }
        flushRequested = false;
        if (pending.isEmpty()) {
          committedSeq = enqueuedSeq;
          committed.signalAll();
          if (closing) {
            return;
          }
          continue;
        }
        batch = pending;
        inFlight = batch;
        pending = new LinkedHashMap<>();
        pendingPuts = 0;
        seq = enqueuedSeq;
      } catch (InterruptedException e) {
        log.warn("snapshot store writer interrupted; stopping without a final commit");
        return;
      } finally {
        lock.unlock();
      }
      boolean ok = commitBatch(batch);
      lock.lock();
      try {
        inFlight = Map.of();
        committedSeq = seq;
        if (ok) {
          commits++;
        } else {
          // The batch is lost; make the index agree with the disk so reads miss, not lie.
          for (String k : batch.keySet()) {
            if (!pending.containsKey(k)) {
              Meta old = sorted.remove(k);
              lru.remove(k);
              if (old != null) {
                totalBytes -= old.bytes();
              }
            }
          }
        }
        committed.signalAll();
      } finally {
        lock.unlock();
      }
    }
  }

  private boolean commitBatch(Map<String, Op> batch) {
    try {
      Header h = Codec.decodeHeader(tables.meta().get(Codec.HEADER_KEY));
      long count = h.count();
      long bytes = h.bytes();
      Map<String, byte[]> entries = tables.entries();
      Map<String, byte[]> index = tables.index();
      for (Op op : batch.values()) {
        byte[] old;
        if (op.isPut()) {
          entries.put(op.key(), op.entry());
          old = index.put(op.key(), op.index());
          count++;
          bytes += Codec.accountedBytes(op.key(), Codec.decodeIndex(op.key(), op.index()).stateSize());
        } else {
          old = index.remove(op.key());
          if (old != null) {
            entries.remove(op.key());
          }
        }
        if (old != null) {
          count--;
          bytes -= Codec.accountedBytes(op.key(), Codec.decodeIndex(op.key(), old).stateSize());
        }
      }
      tables.meta().put(Codec.HEADER_KEY, Codec.encodeHeader(new Header(Codec.FORMAT_VERSION, count, bytes)));
      tables.commit();
      return true;
    } catch (RuntimeException e) {
      log.error("snapshot store commit of {} changes failed; they are lost", batch.size(), e);
      try {
        tables.rollback();
      } catch (RuntimeException r) {
        e.addSuppressed(r);
      }
      return false;
    }
  }

  // ---- verify and close ----

  @Override
  public VerifyResult verify() {
    flush();
    long checked = 0;
    List<String> damaged = new ArrayList<>();
    Map<String, byte[]> index = tables.index();
    for (Map.Entry<String, byte[]> e : tables.entries().entrySet()) {
      checked++;
      String k = e.getKey();
      String name = k.replace('\u0000', '/');
      try {
        Codec.decodeKey(k);
        Snapshot s = Codec.decodeEntry(k, e.getValue());
        IndexRecord r = Codec.decodeIndex(k, index.get(k));
        if (r.version() != s.version() || r.stateSize() != s.stateSize()) {
          damaged.add(name + ": index and entry disagree");
        }
      } catch (CorruptRecordException | IllegalArgumentException ex) {
        damaged.add(name + ": " + ex.getMessage());
      }
    }
    return new VerifyResult(checked, damaged);
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closing) {
        while (!closed) {
          committed.awaitUninterruptibly();
        }
        return;
      }
      closing = true;
      work.signal();
    } finally {
      lock.unlock();
    }
    boolean interrupted = false;
    while (writer.isAlive()) {
      try {
        writer.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      tables.close();
    } finally {
      if (fileLock != null) {
        fileLock.release();
      }
      lock.lock();
      try {
        closed = true;
        committed.signalAll();
      } finally {
        lock.unlock();
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private void checkOpen() {
    if (closing) {
      throw new StoreException(
          StoreException.Reason.CLOSED,
          "snapshot store " + (config.path() == null ? "(memory)" : config.path()) + " is closed");
    }
  }

  @Override
  public String toString() {
    return "SnapshotStore{" + config.backend() + (config.path() == null ? "" : " " + config.path()) + "}";
  }
}
