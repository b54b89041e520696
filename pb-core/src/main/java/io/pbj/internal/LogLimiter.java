package io.pbj.internal;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * Rate-limits one kind of log line that a peer can provoke (a protocol error, an undecodable
 * update): the first line of each interval is logged, the others are counted, and the next line
 * logged says how many were left out. One limiter per call site, shared by every connection, so
 * a flood of bad connections costs a few lines, not one each.
 *
 * <p>Thread-safety: thread-safe.
 */
final class LogLimiter {
  private final long intervalNanos;
  private final LongSupplier nanoTime;
  private long windowStart;
  private long suppressed;
  private boolean started;

  /** Logs at most one line per {@code intervalSeconds}. */
  LogLimiter(long intervalSeconds) {
    this(intervalSeconds, System::nanoTime);
  }

  LogLimiter(long intervalSeconds, LongSupplier nanoTime) {
    this.intervalNanos = TimeUnit.SECONDS.toNanos(intervalSeconds);
    this.nanoTime = nanoTime;
  }

  /**
   * Whether a line may be logged now: -1 if not (it is counted), otherwise how many lines were
   * left out since the last one logged.
   */
  synchronized long admit() {
    long now = nanoTime.getAsLong();
    if (started && now - windowStart < intervalNanos) {
      suppressed++;
      return -1;
    }
    started = true;
    windowStart = now;
    long skipped = suppressed;
    suppressed = 0;
    return skipped;
  }

  /** Logs {@code format} at WARN through {@code log}, unless this interval's line was logged. */
  void warn(Logger log, String format, Object... args) {
    long skipped = admit();
    if (skipped == 0) {
      log.warn(format, args);
    } else if (skipped > 0) {
      log.warn(format + SKIPPED, prepend(args, skipped));
    }
  }

  /** Logs {@code format} at ERROR through {@code log}, unless this interval's line was logged. */
  void error(Logger log, String format, Object... args) {
    long skipped = admit();
    if (skipped == 0) {
      log.error(format, args);
    } else if (skipped > 0) {
      log.error(format + SKIPPED, prepend(args, skipped));
    }
  }

  private static final String SKIPPED = " (and {} more like it since the last such line)";

  /** The arguments with {@code skipped} placed before a trailing Throwable, if any. */
  private static Object[] prepend(Object[] args, long skipped) {
    boolean throwable = args.length > 0 && args[args.length - 1] instanceof Throwable;
    Object[] out = new Object[args.length + 1];
    int n = throwable ? args.length - 1 : args.length;
    System.arraycopy(args, 0, out, 0, n);
    out[n] = skipped;
    if (throwable) {
      out[n + 1] = args[args.length - 1];
    }
    return out;
  }
}
