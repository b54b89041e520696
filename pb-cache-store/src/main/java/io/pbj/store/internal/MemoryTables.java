package io.pbj.store.internal;

import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/** Heap maps; commit is a no-op. Thread-safe for one writer and many readers. */
final class MemoryTables extends Tables {
  private final Map<String, byte[]> entries = new ConcurrentSkipListMap<>();
  private final Map<String, byte[]> index = new ConcurrentSkipListMap<>();
  private final Map<String, byte[]> meta = new ConcurrentSkipListMap<>();

  @Override
  Map<String, byte[]> entries() {
    return entries;
  }

  @Override
  Map<String, byte[]> index() {
    return index;
  }

  @Override
  Map<String, byte[]> meta() {
    return meta;
  }

  @Override
  void commit() {}

  @Override
  void rollback() {}

  @Override
  long fileBytes() {
    return 0;
  }

  @Override
  public void close() {}
}
