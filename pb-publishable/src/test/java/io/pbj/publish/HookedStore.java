package io.pbj.publish;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreStats;
import io.pbj.store.VerifyResult;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A store that delegates, except that reads of one identity miss (as a checksum failure would
 * after the listing) and the first read runs a hook (to change the server mid-activation).
 */
class HookedStore implements SnapshotStore {
  private final SnapshotStore delegate;
  private final String missing;
  private final Runnable onFirstGet;
  private final AtomicBoolean hooked = new AtomicBoolean();

  HookedStore(SnapshotStore delegate, String missing, Runnable onFirstGet) {
    this.delegate = delegate;
    this.missing = missing;
    this.onFirstGet = onFirstGet;
  }

  @Override
  public Optional<Snapshot> get(SnapshotKey key) {
    if (hooked.compareAndSet(false, true)) {
      onFirstGet.run();
    }
    return key.identity().equals(missing) ? Optional.empty() : delegate.get(key);
  }

  @Override
  public void put(SnapshotKey key, Snapshot snapshot) {
    delegate.put(key, snapshot);
  }

  @Override
  public void putAll(Map<SnapshotKey, Snapshot> batch) {
    delegate.putAll(batch);
  }

  @Override
  public void remove(SnapshotKey key) {
    delegate.remove(key);
  }

  @Override
  public List<SnapshotEntry> list(SnapshotPrefix prefix) {
    return delegate.list(prefix);
  }

  @Override
  public long size() {
    return delegate.size();
  }

  @Override
  public StoreStats stats() {
    return delegate.stats();
  }

  @Override
  public void flush() {
    delegate.flush();
  }

  @Override
  public VerifyResult verify() {
    return delegate.verify();
  }

  @Override
  public void close() {}
}
