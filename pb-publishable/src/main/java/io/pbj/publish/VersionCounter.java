package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a {@link PublishingService}'s assigned versions come from. Versions are compared for
 * equality only, so all that matters is that no two runs of a service (a restart, however quick,
 * however busy the run before) assign the same version: that holds by construction, never by
 * reading a clock.
 *
 * <ul>
 *   <li>{@link #random()}: a counter that starts at a random 64-bit value drawn when the service
 *       is built. Two runs that assign n and m versions overlap only if their starts fall within
 *       n + m of each other: with a million runs of a billion versions each, a chance of about
 *       one in 10^4; for realistic numbers, far below one in 10^9. No clock and no file.
 *   <li>{@link #persisted}: an epoch kept in a file, taken (read, incremented, written back and
 *       forced to disk) when the service is built and whenever the counter in the low bits runs
 *       out; a version is {@code epoch << counterBits | counter}. Unique by construction, for as
 *       long as the file is kept and used by one service at a time.
 *   <li>{@link #startingAt}: the application's own first value (tests, or a server that persists
 *       its counter itself).
 * </ul>
 *
 * <p>Thread-safety: thread-safe.
 */
abstract class VersionCounter {
  /** Low bits of a persisted version that count within one epoch. */
  static final int COUNTER_BITS = 32;

  /** Largest epoch file read, in bytes: the file is untrusted input. */
  static final int MAX_FILE_BYTES = 4096;

  private static final String HEADER =
      "# PBJ PublishingService version epoch: the last epoch the service took. Keep this file\n"
          + "# with the server's data and never lower the number: versions would be reissued.\n";

  /** The next version; never one this counter, or a run before it, assigned. */
  abstract long next();

  static VersionCounter random() {
    return startingAt(new SecureRandom().nextLong());
  }

  static VersionCounter startingAt(long first) {
    AtomicLong counter = new AtomicLong(first - 1);
    return new VersionCounter() {
      @Override
      long next() {
        // Wraps after 2^64 versions, which no run assigns; versions are only compared for equality.
        return counter.incrementAndGet();
      }
    };
  }

  /**
   * Takes the next epoch from {@code file} (created at epoch 1 when missing).
   *
   * @throws IllegalArgumentException if the file is not an epoch file or holds the last epoch
   * @throws UncheckedIOException if it cannot be read or written
   */
  static VersionCounter persisted(Path file, int counterBits) {
    return new Persisted(file, counterBits);
  }

  private static final class Persisted extends VersionCounter {
    private final Path file;
    private final int counterBits;
    private final long lastCounter;
    private final long lastEpoch;
    @GuardedBy("this")
    private long epoch;
    @GuardedBy("this")
    private long counter;

    Persisted(Path file, int counterBits) {
      if (counterBits < 1 || counterBits > 62) {
        throw new IllegalArgumentException("counterBits must be 1 to 62, got " + counterBits);
      }
      this.file = file;
      this.counterBits = counterBits;
      this.lastCounter = (1L << counterBits) - 1;
      this.lastEpoch = (1L << (63 - counterBits)) - 1;
      this.epoch = takeEpoch();
    }

    @Override
    synchronized long next() {
      if (counter == lastCounter) {
        epoch = takeEpoch();
        counter = 0;
      }
      counter++;
      return epoch << counterBits | counter;
    }

    private long takeEpoch() {
      long last = read();
      if (last >= lastEpoch) {
        throw new IllegalArgumentException("PublishingService.Builder.versionEpochFile " + file
            + " holds epoch " + last + ", the last one (" + lastEpoch + "); start a new file only"
            + " with a new server key, so that no client holds versions of the old one");
      }
      write(last + 1);
      return last + 1;
    }

    private long read() {
      byte[] bytes;
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        if (ch.size() > MAX_FILE_BYTES) {
          throw bad("is " + ch.size() + " bytes, more than an epoch file's " + MAX_FILE_BYTES);
        }
        ByteBuffer buf = ByteBuffer.allocate((int) ch.size());
        while (buf.hasRemaining() && ch.read(buf) >= 0) {
          // read it all
        }
        bytes = buf.array();
      } catch (NoSuchFileException e) {
        return 0;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the version epoch file " + file + ": " + e, e);
      }
      String text;
      try {
        text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        throw bad("is not UTF-8 text");
      }
      Long found = null;
      int lineNo = 0;
      for (String line : text.split("\n", -1)) {
        lineNo++;
        String l = line.strip();
        if (l.isEmpty() || l.startsWith("#")) {
          continue;
        }
        if (found != null) {
          throw bad("has a second epoch line (line " + lineNo + ")");
        }
        if (!l.startsWith("epoch ")) {
          throw bad("line " + lineNo + " is not \"epoch <number>\"");
        }
        String number = l.substring("epoch ".length()).strip();
        if (number.isEmpty() || number.length() > 19
            || !number.chars().allMatch(c -> c >= '0' && c <= '9')) {
          throw bad("line " + lineNo + ": \"" + abbreviate(number) + "\" is not a number 0 to "
              + lastEpoch);
        }
        found = Long.parseLong(number);
      }
      if (found == null) {
        throw bad("holds no \"epoch <number>\" line");
      }
      return found;
    }

    private void write(long newEpoch) {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      byte[] bytes = (HEADER + "epoch " + newEpoch + "\n").getBytes(StandardCharsets.UTF_8);
      try {
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
          ByteBuffer buf = ByteBuffer.wrap(bytes);
          while (buf.hasRemaining()) {
            ch.write(buf);
          }
          ch.force(true);
        }
        try {
          Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
          Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot write the version epoch file " + file + ": " + e, e);
      }
    }

    private IllegalArgumentException bad(String problem) {
      return new IllegalArgumentException(
          "PublishingService.Builder.versionEpochFile " + file + " " + problem
              + "; it must hold one line \"epoch <number>\" (lines starting with # are comments)");
    }

    private static String abbreviate(String s) {
      return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }
  }
}
