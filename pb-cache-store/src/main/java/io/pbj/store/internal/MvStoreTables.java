package io.pbj.store.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.BiConsumer;
import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;

/**
 * H2 MVStore with auto-commit off: nothing reaches the file until {@link #commit()}, which
 * appends a chunk and syncs it. MVMaps are thread-safe; only the writer thread mutates them.
 */
final class MvStoreTables extends Tables {
  private final Path file;
  private final MVStore store;
  private final MVMap<String, byte[]> entries;
  private final MVMap<String, byte[]> index;
  private final MVMap<String, byte[]> meta;

  MvStoreTables(Path file) {
    this.file = file;
    MVStore opened = new MVStore.Builder().fileName(file.toString()).autoCommitDisabled().open();
    try {
      this.entries = opened.openMap("entries");
      this.index = opened.openMap("index");
      this.meta = opened.openMap("meta");
    } catch (RuntimeException | Error e) {
      opened.closeImmediately();
      throw e;
    }
    this.store = opened;
  }

  @Override
  Map<String, byte[]> entries() {
    return entries;
  }

  @Override
  void scanEntries(String from, String to, BiConsumer<String, byte[]> sink) {
    Cursor<String, byte[]> c = entries.cursor(from, to, false);
    while (c.hasNext()) {
      String k = c.next();
      sink.accept(k, c.getValue());
    }
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
  void commit() {
    store.commit();
    store.sync();
  }

  @Override
  void rollback() {
    store.rollback();
  }

  @Override
  long fileBytes() {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0;
    }
  }

  @Override
  public void close() {
    if (!store.isClosed()) {
      store.close();
    }
  }
}
