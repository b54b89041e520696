package io.pbj.bench.fanout;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Paces the pusher by the slowest observer, so that no stack can win by dropping or coalescing
 * updates. Updates are numbered from 0 and grouped in blocks of {@code blockSize}; a block is
 * complete when every observer has received its last update (observers receive in order, so they
 * have then received the whole block). Before pushing block {@code k} the pusher waits until
 * block {@code k - 2} is complete: at most two blocks are in flight per observer.
 *
 * <p>Thread-safety: {@link #arrived} may be called from any number of observer threads;
 * {@link #awaitCompleted} only from the one pusher thread given to the constructor.
 */
final class Window {
  /** Blocks in flight are {@code k - 1} and {@code k}; four slots leave room for the reset. */
  private static final int SLOTS = 4;

  private final int observers;
  private final int blockSize;
  private final Thread pusher;
  private final AtomicIntegerArray arrivals = new AtomicIntegerArray(SLOTS);
  private final AtomicLong completedBlocks = new AtomicLong();
  private volatile long lastCompletionNanos;

  Window(int observers, int blockSize, Thread pusher) {
    this.observers = observers;
    this.blockSize = blockSize;
    this.pusher = pusher;
  }

  int blockSize() {
    return blockSize;
  }

  /** Most updates an observer can have outstanding. */
  int inFlight() {
    return 2 * blockSize;
  }

  /**
   * One observer has received (or, after coalescing, been given the state up to) update
   * {@code seq}. Each observer reports each sequence number at most once, in increasing order.
   */
  void arrived(long seq) {
    if ((seq + 1) % blockSize != 0) {
      return;
    }
    long block = seq / blockSize;
    int slot = (int) (block % SLOTS);
    if (arrivals.incrementAndGet(slot) == observers) {
      // Block + SLOTS cannot be pushed before this block completes, so nobody counts in this
      // slot until the reset below is visible.
      arrivals.set(slot, 0);
      lastCompletionNanos = System.nanoTime();
      completedBlocks.accumulateAndGet(block + 1, Math::max);
      LockSupport.unpark(pusher);
    }
  }

  /** Blocks 0 to {@code blocks - 1} are complete. */
  long completedBlocks() {
    return completedBlocks.get();
  }

  /** When the latest block was completed, by {@link System#nanoTime()}. */
  long lastCompletionNanos() {
    return lastCompletionNanos;
  }

  /**
   * Waits until blocks 0 to {@code blocks - 1} are complete; fails if no block completes for
   * {@code stallSeconds}.
   */
  void awaitCompleted(long blocks, long stallSeconds) throws TimeoutException {
    long seen = completedBlocks.get();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(stallSeconds);
    while (seen < blocks) {
      LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(10));
      long now = completedBlocks.get();
      if (now > seen) {
        seen = now;
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(stallSeconds);
      } else if (System.nanoTime() > deadline) {
        throw new TimeoutException(
            "no block of " + blockSize + " updates completed for " + stallSeconds
                + " s: waiting for blocks 0 to " + (blocks - 1) + ", " + seen
                + " complete (an observer lost an update or its connection)");
      }
    }
  }
}
