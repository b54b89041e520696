package io.pbj.bench.fanout;

/**
 * One observer's count of what it received: deliveries, and any departure from the pushed order
 * 0, 1, 2, ... It reports progress to the {@link Window}.
 *
 * <p>Thread-safety: written by one thread at a time (the observer's ordered delivery path, which
 * publishes between its threads); the counters may be read from any thread.
 */
final class Receiver {
  private final Window window;
  private long expected;
  private volatile long deliveries;
  private volatile long missing;
  private volatile long outOfOrder;
  private volatile long coalesced;

  /** @param next the first sequence number this observer will receive */
  Receiver(Window window, long next) {
    this.window = window;
    this.expected = next;
  }

  /** Update {@code seq} was delivered. */
  void deliver(long seq) {
    deliveries++;
    if (seq < expected) {
      outOfOrder++;
      return;
    }
    if (seq > expected) {
      missing += seq - expected;
      skip(seq);
    }
    expected = seq + 1;
    window.arrived(seq);
  }

  /** A whole state arrived that includes every update up to {@code seq} (after coalescing). */
  void stateUpTo(long seq) {
    if (seq >= expected) {
      coalesced += seq + 1 - expected;
      skip(seq + 1);
      expected = seq + 1;
    }
  }

  /** Reports the updates from {@code expected} up to {@code end} (excluded) as arrived. */
  private void skip(long end) {
    for (long s = expected; s < end; s++) {
      window.arrived(s);
    }
  }

  long deliveries() {
    return deliveries;
  }

  /** Updates never delivered, neither as an update nor in a fresh state. */
  long missing() {
    return missing;
  }

  /** Deliveries of a sequence number at or below one already seen. */
  long outOfOrder() {
    return outOfOrder;
  }

  /** Updates not delivered as such but included in a fresh state (coalesced). */
  long coalesced() {
    return coalesced;
  }
}
