package io.pbj.bench.live;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When each change reached the last of the clients. The server registers a change's version and
 * the time it pushed it ({@link #sent}) before the push; each client reports each version it
 * applied once ({@link #applied}); when the last client has, the delay is kept. A version a
 * client never applied by itself (it received a newer whole state instead, after coalescing)
 * never completes and is counted by {@link #incomplete()}.
 *
 * <p>Thread-safety: thread-safe; {@link #sent} from the one changing thread, {@link #applied}
 * from any client thread.
 */
final class Deliveries {
  private record Pending(long sentNanos, AtomicInteger remaining) {}

  private final int clients;
  private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
  private final long[] delays;
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicLong lastCompletionNanos = new AtomicLong();

  Deliveries(int clients, int maxChanges) {
    this.clients = clients;
    this.delays = new long[maxChanges];
  }

  /** The change at {@code version} is about to be pushed, now. */
  void sent(long version, long nanos) {
    pending.put(version, new Pending(nanos, new AtomicInteger(clients)));
  }

  /** One client applied the change at {@code version} (each client reports a version once). */
  void applied(long version) {
    Pending p = pending.get(version);
    if (p == null || p.remaining().decrementAndGet() != 0) {
      return;
    }
    long now = System.nanoTime();
    pending.remove(version);
    int i = completed.getAndIncrement();
    if (i < delays.length) {
      delays[i] = now - p.sentNanos();
    }
    lastCompletionNanos.accumulateAndGet(now, Math::max);
  }

  /** Changes not (yet) applied by every client. */
  int incomplete() {
    return pending.size();
  }

  /** Changes applied by every client. */
  int completed() {
    return Math.min(completed.get(), delays.length);
  }

  /** When the latest change reached its last client, by {@link System#nanoTime()}; 0 if none. */
  long lastCompletionNanos() {
    return lastCompletionNanos.get();
  }

  /** The delays of the completed changes, in nanoseconds, sorted. */
  long[] sortedDelays() {
    long[] d = Arrays.copyOf(delays, completed());
    Arrays.sort(d);
    return d;
  }

  /** The {@code p}-th percentile (0 to 100) of sorted {@code delays}, nearest rank; 0 if none. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }
}
