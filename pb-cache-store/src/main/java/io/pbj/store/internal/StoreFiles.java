package io.pbj.store.internal;

import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** File-system chores: the owner lock and quarantine. Stateless; thread-safe. */
final class StoreFiles {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

  private StoreFiles() {}

  /** The exclusive owner lock of a store, held on {@code <file>.lock} until released. */
  static final class Lock {
    private final FileChannel channel;
    private final FileLock lock;

    private Lock(FileChannel channel, FileLock lock) {
      this.channel = channel;
      this.lock = lock;
    }

    void release() {
      try {
        lock.release();
      } catch (IOException e) {
        // Closing the channel below releases it anyway.
      }
      try {
        channel.close();
      } catch (IOException e) {
        // Nothing more to do: the OS drops the lock when the process exits.
      }
    }
  }

  static Path lockFile(Path store) {
    return store.resolveSibling(store.getFileName() + ".lock");
  }

  static Lock lock(Path store) {
    Path lockFile = lockFile(store);
    FileChannel ch;
    try {
      Path parent = store.getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot open lock file " + lockFile + ": " + e.getMessage(), e);
    }
    FileLock fl;
    try {
      fl = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      fl = null;
    } catch (IOException e) {
      closeQuietly(ch);
      throw new StoreException(
          StoreException.Reason.IO, "cannot lock " + lockFile + ": " + e.getMessage(), e);
    }
    if (fl == null) {
      closeQuietly(ch);
      throw new StoreException(
          StoreException.Reason.IN_USE,
          "snapshot store " + store + " is in use by another process (lock " + lockFile
              + " is held); close the other store or use a different path");
    }
    return new Lock(ch, fl);
  }

  /** Moves the store file and its companions aside; returns the new name of the main file. */
  static Path quarantine(Path store, StoreBackend backend) {
    String stamp = ".damaged-" + LocalDateTime.now().format(STAMP);
    String suffix = stamp;
    // Two quarantines in one millisecond (a file damaged again at once) must not overwrite the first.
    for (int n = 2; Files.exists(store.resolveSibling(store.getFileName() + suffix)); n++) {
      suffix = stamp + "-" + n;
    }
    Path aside = store.resolveSibling(store.getFileName() + suffix);
    List<Path> files = new ArrayList<>();
    files.add(store);
    try {
      if (backend == StoreBackend.MAPDB) {
        files.addAll(MapDbTables.walFiles(store));
      }
      String base = store.getFileName().toString();
      for (Path p : files) {
        if (Files.exists(p)) {
          // <name><rest> becomes <name>.damaged-<stamp><rest>, so an old log never matches a live one.
          String rest = p.getFileName().toString().substring(base.length());
          Files.move(p, p.resolveSibling(base + suffix + rest), StandardCopyOption.ATOMIC_MOVE);
        }
      }
    } catch (IOException | java.io.UncheckedIOException e) {
      throw new StoreException(
          StoreException.Reason.IO, "cannot move damaged store " + store + " aside: " + e.getMessage(), e);
    }
    return aside;
  }

  /**
   * Null when {@code store} is empty or starts like a file of {@code backend}, else a reason.
   * MapDB 3 files start with 0x4A 0x03; MVStore files with the text header {@code "H:2,"}.
   */
  static String foreignHeader(Path store, StoreBackend backend) {
    byte[] head = new byte[4];
    int n;
    try (InputStream in = Files.newInputStream(store)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      throw new StoreException(StoreException.Reason.IO, "cannot read " + store + ": " + e.getMessage(), e);
    }
    if (n == 0) {
      return null;
    }
    boolean ok =
        backend == StoreBackend.MAPDB
            ? n >= 2 && head[0] == 0x4A && head[1] == 0x03
            : n >= 4 && head[0] == 'H' && head[1] == ':' && head[2] == '2' && head[3] == ',';
    return ok ? null : "file does not start with a " + backend + " header";
  }

  private static void closeQuietly(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // Already failing; the original problem is the one to report.
    }
  }
}
