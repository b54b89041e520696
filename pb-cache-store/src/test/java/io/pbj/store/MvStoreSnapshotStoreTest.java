package io.pbj.store;

import java.nio.file.Path;

class MvStoreSnapshotStoreTest extends AbstractSnapshotStoreTest {
  @Override
  protected SnapshotStoreBuilder builder(Path dir) {
    return SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(dir.resolve("snapshots.mv"));
  }

  @Override
  protected boolean persistent() {
    return true;
  }
}
