package io.pbj.store.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.mapdb.DB;
import org.mapdb.DBMaker;
import org.mapdb.Serializer;

/**
 * MapDB 3 file store with transactions (a write-ahead log beside the file) and B-tree maps, so
 * keys are ordered. MapDB's maps are thread-safe; only the writer thread mutates them.
 */
final class MapDbTables extends Tables {
  private final Path file;
  private final DB db;
  private final Map<String, byte[]> entries;
  private final Map<String, byte[]> index;
  private final Map<String, byte[]> meta;

  MapDbTables(Path file) {
    this.file = file;
    DB opened =
        DBMaker.fileDB(file.toFile()).transactionEnable().fileMmapEnableIfSupported().make();
    try {
      this.entries =
          opened
              .treeMap("entries", Serializer.STRING, Serializer.BYTE_ARRAY)
              .valuesOutsideNodesEnable()
              .createOrOpen();
      this.index = opened.treeMap("index", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
      this.meta = opened.treeMap("meta", Serializer.STRING, Serializer.BYTE_ARRAY).createOrOpen();
    } catch (RuntimeException | Error e) {
      try {
        opened.close();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    this.db = opened;
  }

  /** MapDB's write-ahead log files for {@code file}: {@code <name>.wal.<n>}. */
  static List<Path> walFiles(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    String prefix = file.getFileName().toString() + ".wal.";
    List<Path> out = new ArrayList<>();
    if (dir == null || !Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().startsWith(prefix)).forEach(out::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

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
  void commit() {
    db.commit();
  }

  @Override
  void rollback() {
    db.rollback();
  }

  @Override
  long fileBytes() {
    long total = 0;
    try {
      total += Files.size(file);
      for (Path p : walFiles(file)) {
        total += Files.size(p);
      }
    } catch (IOException e) {
      // A file vanishing between list and size only makes the number approximate.
    }
    return total;
  }

  @Override
  public void close() {
    if (!db.isClosed()) {
      db.close();
    }
  }
}
