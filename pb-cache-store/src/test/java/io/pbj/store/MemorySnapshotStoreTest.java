package io.pbj.store;

import java.nio.file.Path;

class MemorySnapshotStoreTest extends AbstractSnapshotStoreTest {
  @Override
  protected SnapshotStoreBuilder builder(Path dir) {
    return SnapshotStore.builder().backend(StoreBackend.MEMORY);
  }

  @Override
  protected boolean persistent() {
    return false;
  }
}
