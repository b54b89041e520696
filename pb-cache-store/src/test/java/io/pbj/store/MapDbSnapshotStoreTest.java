package io.pbj.store;

import java.nio.file.Path;

class MapDbSnapshotStoreTest extends AbstractSnapshotStoreTest {
  @Override
  protected SnapshotStoreBuilder builder(Path dir) {
    return SnapshotStore.builder().backend(StoreBackend.MAPDB).path(dir.resolve("snapshots.db"));
  }

  @Override
  protected boolean persistent() {
    return true;
  }
}
