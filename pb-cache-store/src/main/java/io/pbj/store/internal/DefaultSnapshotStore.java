package io.pbj.store.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import io.pbj.store.StoreStats;
import io.pbj.store.VerifyResult;
import io.pbj.store.internal.BackendFailure.Action;
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
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
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
 * <p>Every call into the backend holds the read side of a second lock, {@code backendLock}, and
 * runs through {@link #call}: whatever a damaged file makes the backend throw (see {@link
 * BackendFailure}) is caught there, the file is quarantined under the write side (so no caller
 * ever sees a half-replaced backend), and the call is answered as a miss or a no-op. Lock order:
 * {@code backendLock} before {@code lock}; no thread takes {@code backendLock} while holding
 * {@code lock}.
 *
 * <pre>{@code
 * SnapshotStore s = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
 * }</pre>
 */
public final class DefaultSnapshotStore implements SnapshotStore {
  private static final Logger log = LoggerFactory.getLogger(DefaultSnapshotStore.class);

  private final StoreConfig config;
  private final StoreFiles.Lock fileLock;
  private final Thread writer;

  /** Read side: any call into {@link #tables}. Write side: replacing or closing it. */
  private final ReentrantReadWriteLock backendLock = new ReentrantReadWriteLock();
  @GuardedBy("backendLock")
  private Tables tables;
  @GuardedBy("backendLock")
  private boolean backendClosed;
  /** Bumped (under the write side) each time the backend is replaced; read anywhere. */
  private volatile long generation;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private final Condition committed = lock.newCondition();

  @GuardedBy("lock")
  private final TreeMap<String, Meta> sorted = new TreeMap<>();
  @GuardedBy("lock")
  private final LinkedHashMap<String, Meta> lru = new LinkedHashMap<>(1024, 0.75f, true);
  @GuardedBy("lock")
  private long totalBytes;
  @GuardedBy("lock")
  private LinkedHashMap<String, Op> pending = new LinkedHashMap<>();
  @GuardedBy("lock")
  private int pendingPuts;
  @GuardedBy("lock")
  private long firstPendingNanos;
  @GuardedBy("lock")
  private Map<String, Op> inFlight = Map.of();
  @GuardedBy("lock")
  private long enqueuedSeq;
  @GuardedBy("lock")
  private long committedSeq;
  @GuardedBy("lock")
  private boolean flushRequested;
  @GuardedBy("lock")
  private boolean writerIdle;
  @GuardedBy("lock")
  private boolean closing;
  @GuardedBy("lock")
  private boolean closed;
  @GuardedBy("lock")
  private long evictions;
  @GuardedBy("lock")
  private long dropped;
  @GuardedBy("lock")
  private long commits;
  @GuardedBy("lock")
  private long commitAttempts;
  @GuardedBy("lock")
  private long quarantines;

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

  private DefaultSnapshotStore(StoreConfig config, Opened opened, StoreFiles.Lock fileLock) {
    this.config = config;
    this.tables = opened.tables();
    this.fileLock = fileLock;
    this.quarantines = opened.quarantined() ? 1 : 0;
    loadIndex(opened.index());
    String name = config.path() == null ? "memory" : config.path().getFileName().toString();
    this.writer = new Thread(this::writeLoop, "pbj-store-writer-" + name);
    writer.setDaemon(true);
    writer.start();
  }

  /** A backend that passed validation, with its index records, and whether a file was moved aside. */
  private record Opened(Tables tables, List<Map.Entry<String, Meta>> index, boolean quarantined) {}

  /** Opens a store as configured; see {@code SnapshotStoreBuilder#build()}. */
  public static SnapshotStore open(StoreConfig config) {
    Objects.requireNonNull(config, "config");
    if (config.backend() == StoreBackend.MEMORY) {
      Tables t = new MemoryTables();
      writeHeader(t, new Header(Codec.FORMAT_VERSION, 0, 0));
      return new DefaultSnapshotStore(config, new Opened(t, List.of(), false), null);
    }
    Path path = config.path().toAbsolutePath();
    StoreFiles.Lock fileLock = StoreFiles.lock(path);
    try {
      return new DefaultSnapshotStore(config, openValidated(config, path), fileLock);
    } catch (RuntimeException | Error e) {
      fileLock.release();
      throw e;
    }
  }

  private static Opened openValidated(StoreConfig config, Path path) {
    boolean existed = Files.exists(path);
    if (!existed && !config.createIfMissing()) {
      throw new StoreException(
          StoreException.Reason.NOT_FOUND, "snapshot store " + path + " does not exist");
    }
    String problem;
    Throwable cause = null;
    Action action = Action.QUARANTINE;
    Tables t = null;
    try {
      // Refuse a foreign file before the backend sees it: MapDB would otherwise grow it in place.
      problem = existed ? StoreFiles.foreignHeader(path, config.backend()) : null;
      if (problem == null && existed && config.backend() == StoreBackend.MAPDB) {
        problem = MapDbTables.truncation(path); // before MapDB opens it and grows it back
      }
      if (problem == null) {
        t = openTables(config.backend(), path);
        List<Map.Entry<String, Meta>> index = new ArrayList<>();
        problem = validate(t, existed, index);
        if (problem == null) {
          return new Opened(t, index, false);
        }
      }
    } catch (StoreException e) {
      abandonQuietly(t);
      throw e;
    } catch (Throwable e) {
      action = BackendFailure.classify(e);
      if (action == Action.PROPAGATE) {
        abandonQuietly(t);
        throw e;
      }
      problem = BackendFailure.describe(e);
      cause = e;
    }
    abandonQuietly(t);
    String what = "snapshot store " + path + " (" + config.backend() + ") is damaged or not a store: " + problem;
    if (!config.quarantineDamaged()) {
      throw new StoreException(StoreException.Reason.DAMAGED, what, cause);
    }
    Path aside = StoreFiles.quarantine(path, config.backend());
    log.warn("{}; moved it to {} and started an empty store", what, aside);
    if (cause != null) {
      log.debug("what the backend threw on opening {}", path, cause);
    }
    if (action == Action.QUARANTINE_AND_RETHROW) {
      throw (Error) cause;
    }
    return new Opened(openEmpty(config.backend(), path), List.of(), true);
  }

  /** A new, empty store file at {@code path} (whatever was there has been moved aside). */
  private static Tables openEmpty(StoreBackend backend, Path path) {
    Tables fresh = null;
    try {
      fresh = openTables(backend, path);
      writeHeader(fresh, new Header(Codec.FORMAT_VERSION, 0, 0));
      return fresh;
    } catch (StoreException e) {
      abandonQuietly(fresh);
      throw e;
    } catch (RuntimeException e) {
      abandonQuietly(fresh);
      throw new StoreException(
          StoreException.Reason.IO,
          "cannot create a new snapshot store at " + path + ": " + BackendFailure.describe(e), e);
    }
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

  /**
   * Null when the tables hold a valid store (creating the header of a new one), else why not.
   * Fills {@code index} with every index record, for the in-memory index.
   */
  private static String validate(Tables t, boolean existed, List<Map.Entry<String, Meta>> index) {
    if (existed) {
      // First: a store cut short may open as an older, self-consistent one, or as an empty one.
      String truncated = t.truncation();
      if (truncated != null) {
        return truncated;
      }
    }
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
      String k = e.getKey();
      try {
        SnapshotKey key = Codec.decodeKey(k);
        IndexRecord r = Codec.decodeIndex(k, e.getValue());
        Meta m = meta(key, k, r.version(), r.stateSize(), r.storedAtMillis());
        bytes += m.bytes();
        index.add(Map.entry(k, m));
      } catch (CorruptRecordException | IllegalArgumentException ex) {
        return "index entry " + k.replace('\u0000', '/') + ": " + ex.getMessage();
      }
      if (++count > h.count()) {
        // Stop here: a damaged backend may hand out entries without end.
        return "the index holds more entries than the header's " + h.count();
      }
    }
    if (count < h.count()) {
      return "truncated: the header promises " + h.count() + " entries / " + h.bytes()
          + " bytes but the index holds " + count + " / " + bytes;
    }
    if (count != h.count() || bytes != h.bytes()) {
      return "index holds " + count + " entries / " + bytes + " bytes but the header says "
          + h.count() + " / " + h.bytes();
    }
    int entryCount = t.entries().size();
    if (entryCount != count) {
      return (entryCount < count ? "truncated: " : "") + "store holds " + entryCount
          + " entries but its index " + count;
    }
    return null;
  }

  private static void writeHeader(Tables t, Header h) {
    t.meta().put(Codec.HEADER_KEY, Codec.encodeHeader(h));
    t.commit();
  }

  /** Closes a backend found damaged (or being dropped) without letting its failure escape. */
  private static void abandonQuietly(Tables t) {
    if (t == null) {
      return;
    }
    try {
      t.abandon();
    } catch (Throwable e) {
      if (BackendFailure.classify(e) == Action.PROPAGATE) {
        throw e;
      }
      log.debug("closing a damaged store failed", e);
    }
  }

  private void loadIndex(List<Map.Entry<String, Meta>> all) {
    // No access times survive a restart (recording them would cost a commit per read), so the
    // oldest-stored entries are the first to go.
    all = new ArrayList<>(all);
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

  // ---- the guarded backend ----

  /** A call into the backend; anything it throws is judged by {@link BackendFailure}. */
  @FunctionalInterface
  private interface BackendCall<T> {
    T run(Tables t);
  }

  /** How a caller wants damage reported when quarantine cannot absorb it. */
  private enum OnDamage {
    /** A caller's read: with quarantine off, a StoreException(DAMAGED) says why. */
    THROW,
    /** verify(): damage is what it reports, never throws. */
    REPORT,
    /** The writer thread: nobody to throw to; log and go on. */
    LOG
  }

  /**
   * Runs {@code body} against the current backend under the read side of {@code backendLock}.
   * If the backend fails because its file is damaged, the file is quarantined and the answer is
   * {@code onFailure} applied to a one-line account of what happened (or, with quarantine off,
   * a {@code StoreException(DAMAGED)} is thrown).
   */
  private <T> T call(String what, Function<String, T> onFailure, BackendCall<T> body) {
    return call(what, OnDamage.THROW, onFailure, body);
  }

  private <T> T call(String what, OnDamage onDamage, Function<String, T> onFailure, BackendCall<T> body) {
    long gen = -1;
    Throwable failure;
    backendLock.readLock().lock();
    try {
      if (backendClosed) {
        throw closedException();
      }
      gen = generation;
      return body.run(tables);
    } catch (Throwable t) {
      if (BackendFailure.classify(t) == Action.PROPAGATE) {
        throw t;
      }
      failure = t;
    } finally {
      backendLock.readLock().unlock();
    }
    return onFailure.apply(backendFailed(gen, what, failure, onDamage));
  }

  /**
   * Deals with a backend failure seen while the backend of generation {@code gen} was in use:
   * quarantines the file (once, however many callers saw it fail) and returns a line saying so.
   * With quarantine off the file is left alone and, for {@link OnDamage#THROW}, a StoreException
   * says why. An OutOfMemoryError under real heap pressure is rethrown to a calling thread after
   * the quarantine (never from the writer thread).
   */
  private String backendFailed(long gen, String what, Throwable failure, OnDamage onDamage) {
    Action action = BackendFailure.classify(failure);
    boolean rethrowError = action == Action.QUARANTINE_AND_RETHROW && onDamage != OnDamage.LOG;
    String cause = BackendFailure.describe(failure);
    if (!config.quarantineDamaged()) {
      String line = "snapshot store " + describePath() + " failed while " + what + ": " + cause
          + " (quarantine is off; the file is left as it is)";
      if (rethrowError) {
        throw (Error) failure;
      }
      if (onDamage == OnDamage.THROW) {
        throw new StoreException(StoreException.Reason.DAMAGED, line, failure);
      }
      log.warn(line);
      return line;
    }
    String line = quarantine(gen, what + " failed: " + cause, failure);
    if (rethrowError) {
      throw (Error) failure;
    }
    return line;
  }

  /**
   * Replaces the backend of generation {@code gen} with an empty one, moving its file aside.
   * A no-op (returning what happened) if another caller has already replaced it, or the store
   * is closed. Takes the write side of {@code backendLock}, so it waits for every call in flight.
   */
  private String quarantine(long gen, String reason, Throwable cause) {
    Path aside = null;
    String fallback = null;
    backendLock.writeLock().lock();
    try {
      if (backendClosed) {
        return "snapshot store " + describePath() + " " + reason + " while closing";
      }
      if (generation != gen) {
        return "snapshot store " + describePath() + " " + reason
            + "; the file had already been quarantined by another call";
      }
      abandonQuietly(tables);
      Tables fresh;
      if (config.path() == null) {
        fresh = new MemoryTables();
        writeHeader(fresh, new Header(Codec.FORMAT_VERSION, 0, 0));
      } else {
        Path path = config.path().toAbsolutePath();
        try {
          aside = StoreFiles.quarantine(path, config.backend());
          fresh = openEmpty(config.backend(), path);
        } catch (RuntimeException e) {
          // The session goes on in memory; the next open deals with whatever is on disk.
          fallback = BackendFailure.describe(e.getCause() != null ? e.getCause() : e);
          fresh = new MemoryTables();
          writeHeader(fresh, new Header(Codec.FORMAT_VERSION, 0, 0));
        }
      }
      tables = fresh;
      generation++;
      lock.lock();
      try {
        quarantines++;
        keepOnlyUncommitted();
      } finally {
        lock.unlock();
      }
    } finally {
      backendLock.writeLock().unlock();
    }
    String line = "snapshot store " + describePath() + " (" + config.backend() + ") is damaged: "
        + reason + "; "
        + (fallback != null
            ? (aside != null ? "moved it to " + aside + " but " : "")
                + "could not start a new file (" + fallback + "), so it continues in memory"
            : aside != null
                ? "moved it to " + aside + " and continued with an empty store"
                : "continued with an empty store");
    log.warn(line);
    log.debug("what the backend threw", cause);
    return line;
  }

  /**
   * After a quarantine only what is still queued exists; lock held. A batch the writer already
   * took is kept too: it will land in the new file, or the writer drops it if it went to the old.
   */
  private void keepOnlyUncommitted() {
    Iterator<Map.Entry<String, Meta>> it = sorted.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<String, Meta> e = it.next();
      Op queued = pending.get(e.getKey());
      if (queued == null) {
        queued = inFlight.get(e.getKey());
      }
      if (queued == null || !queued.isPut()) {
        it.remove();
        lru.remove(e.getKey());
        totalBytes -= e.getValue().bytes();
      }
    }
  }

  private String describePath() {
    return config.path() == null ? "(memory)" : config.path().toString();
  }

  private StoreException closedException() {
    return new StoreException(
        StoreException.Reason.CLOSED, "snapshot store " + describePath() + " is closed");
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
      raw = call("reading " + key, failed -> null, t -> t.entries().get(k));
    } else {
      raw = null;
    }
    if (raw == null) {
      if (op == null && m != null) {
        entryMissing(k, m);
      }
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
    Map<String, Meta> listed = new HashMap<>(wanted.size() * 2);
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
          listed.put(k, m);
        }
      }
      scan = committed.size() >= SCAN_MIN_KEYS
          && dense(committed.get(0), committed.get(committed.size() - 1),
              (long) committed.size() * SCAN_DENSITY);
    } finally {
      lock.unlock();
    }
    // What a scan or lookup delivered before a backend failure is kept: each entry still has to
    // pass its checksum below, and the rest are misses.
    if (scan) {
      Set<String> need = new HashSet<>(committed);
      call("scanning " + committed.size() + " entries", failed -> null, t -> {
        t.scanEntries(committed.get(0), committed.get(committed.size() - 1), (k, v) -> {
          if (need.contains(k)) {
            raw.putIfAbsent(k, v);
          }
        });
        return null;
      });
    } else if (!committed.isEmpty()) {
      call("reading " + committed.size() + " entries", failed -> null, t -> {
        for (String k : committed) {
          byte[] v = t.entries().get(k);
          if (v != null) {
            raw.put(k, v);
          }
        }
        return null;
      });
    }
    Map<SnapshotKey, Snapshot> out = new HashMap<>(raw.size() * 2);
    for (Map.Entry<String, SnapshotKey> w : wanted.entrySet()) {
      byte[] r = raw.get(w.getKey());
      if (r == null) {
        Meta m = listed.get(w.getKey());
        if (m != null) {
          entryMissing(w.getKey(), m);
        }
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

  /**
   * The index listed {@code k} (as {@code m}) but the backend holds no entry under it: a key
   * garbled in the file (a flipped bit in a MapDB delta node's shared prefix renames every key of
   * the node; the entry count stays the same, so open passes). Counted as a checksum failure and
   * logged, so the damage is seen. The index entry is kept: the entry now lies under a key nobody
   * knows, so removing the index entry would leave the file with one entry more than its index,
   * and the next open would quarantine it. Nothing is counted when the index changed since it was
   * read (a remove, an eviction, a quarantine or a queued put raced the read).
   */
  private void entryMissing(String k, Meta m) {
    lock.lock();
    try {
      if (closing || sorted.get(k) != m || pending.containsKey(k) || inFlight.containsKey(k)) {
        return;
      }
      checksumFailures.increment();
    } finally {
      lock.unlock();
    }
    log.warn("snapshot store entry {} is listed in the index but has no entry in the backend"
        + " (a damaged key); treating it as a miss", k.replace('\u0000', '/'));
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
    long fileBytes;
    backendLock.readLock().lock();
    try {
      fileBytes = backendClosed ? 0 : tables.fileBytes();
    } finally {
      backendLock.readLock().unlock();
    }
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
          quarantines,
          fileBytes);
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
        commitAttempts++;
        pending = new LinkedHashMap<>();
        pendingPuts = 0;
        seq = enqueuedSeq;
      } catch (InterruptedException e) {
        log.warn("snapshot store writer interrupted; stopping without a final commit");
        return;
      } finally {
        lock.unlock();
      }
      long committedTo;
      try {
        committedTo = commitBatch(batch);
      } catch (RuntimeException | Error e) {
        // commitBatch deals with backend failures; this is a defect, and the writer must live on.
        log.error("snapshot store {}: commit of {} changes failed unexpectedly; they are lost",
            describePath(), batch.size(), e);
        committedTo = -1;
      }
      lock.lock();
      try {
        inFlight = Map.of();
        committedSeq = seq;
        if (committedTo >= 0 && committedTo == generation) {
          commits++;
        } else {
          // The batch is lost (its commit failed, or went into a file since quarantined); make the
          // index agree with the disk so reads miss, not lie.
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

  /**
   * Writes {@code batch} and the new header in one transaction. Returns the generation of the
   * backend it went into, or -1 when it failed (the file is then quarantined, or with quarantine
   * off the transaction is rolled back); either way a failed batch is only lost cache.
   */
  private long commitBatch(Map<String, Op> batch) {
    long gen = -1;
    Throwable failure;
    backendLock.readLock().lock();
    try {
      if (backendClosed) {
        return -1; // close() stops the writer before it closes the backend; kept for safety
      }
      gen = generation;
      applyAndCommit(tables, batch);
      return gen;
    } catch (Throwable t) {
      if (BackendFailure.classify(t) == Action.PROPAGATE) {
        throw t;
      }
      failure = t;
      if (!config.quarantineDamaged()) {
        try {
          tables.rollback();
        } catch (Throwable r) {
          failure.addSuppressed(r);
        }
      }
    } finally {
      backendLock.readLock().unlock();
    }
    backendFailed(gen, "committing " + batch.size() + " queued changes (they are lost; a cache refills)",
        failure, OnDamage.LOG);
    return -1;
  }

  private static void applyAndCommit(Tables t, Map<String, Op> batch) {
    Header h = Codec.decodeHeader(t.meta().get(Codec.HEADER_KEY));
    long count = h.count();
    long bytes = h.bytes();
    Map<String, byte[]> entries = t.entries();
    Map<String, byte[]> index = t.index();
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
    // The header travels in the same transaction as the entries it counts, so a crash never
    // leaves a header that promises more (or less) than the file holds.
    t.meta().put(Codec.HEADER_KEY, Codec.encodeHeader(new Header(Codec.FORMAT_VERSION, count, bytes)));
    t.commit();
  }

  // ---- verify and close ----

  /** What one pass over the committed entries found; {@code promised} is the header's count. */
  private record Checked(long checked, List<String> damaged, long promised) {}

  @Override
  public VerifyResult verify() {
    flush();
    long attempts;
    boolean idle;
    lock.lock();
    try {
      checkOpen();
      attempts = commitAttempts;
      idle = inFlight.isEmpty();
    } finally {
      lock.unlock();
    }
    // verify reports damage rather than throwing it, with quarantine on or off.
    Checked c = call("verifying", OnDamage.REPORT, failed -> new Checked(0, List.of(failed), -1), DefaultSnapshotStore::check);
    List<String> damaged = new ArrayList<>(c.damaged());
    lock.lock();
    try {
      // The count is only comparable if no commit ran while the entries were read.
      boolean quiet = idle && inFlight.isEmpty() && attempts == commitAttempts;
      if (quiet && c.promised() >= 0 && c.checked() != c.promised()) {
        damaged.add((c.checked() < c.promised() ? "truncated: " : "") + "the header promises "
            + c.promised() + " entries but " + c.checked() + " were read");
      }
    } finally {
      lock.unlock();
    }
    return new VerifyResult(c.checked(), damaged);
  }

  private static Checked check(Tables t) {
    long checked = 0;
    List<String> damaged = new ArrayList<>();
    String truncated = t.truncation();
    if (truncated != null) {
      damaged.add("store file: " + truncated);
    }
    long promised;
    try {
      promised = Codec.decodeHeader(t.meta().get(Codec.HEADER_KEY)).count();
    } catch (CorruptRecordException e) {
      damaged.add("store header: " + e.getMessage());
      promised = -1;
    }
    Map<String, byte[]> index = t.index();
    for (Map.Entry<String, byte[]> e : t.entries().entrySet()) {
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
    return new Checked(checked, damaged, promised);
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
      backendLock.writeLock().lock();
      try {
        backendClosed = true;
        try {
          tables.close();
        } catch (Throwable e) {
          if (BackendFailure.classify(e) == Action.PROPAGATE) {
            throw e;
          }
          log.warn("snapshot store {}: closing the backend failed ({}); the next open validates"
              + " the file", describePath(), BackendFailure.describe(e));
        }
      } finally {
        backendLock.writeLock().unlock();
      }
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
      throw closedException();
    }
  }

  @Override
  public String toString() {
    return "SnapshotStore{" + config.backend() + (config.path() == null ? "" : " " + config.path()) + "}";
  }
}
