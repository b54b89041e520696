package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbException.Code;
import io.pbj.PbException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The bytes of received messages not yet decoded that all connections of one server may hold
 * together: partly received ones, and whole ones waiting to be decoded. Each connection's {@link
 * ChunkCodec} charges its {@link Holder} before it allocates room for incoming bytes, and refunds
 * everything when the message is complete, discarded or the channel closes; its {@link
 * MessageCodec} charges a whole message that has to wait (for the decode pool, or behind one that
 * does) and refunds it once it is decoded.
 *
 * <p>When a charge would take the total over the budget, the connection holding the most is
 * closed with {@link Code#LIMIT_EXCEEDED}: the one asking if it holds the most, otherwise the
 * largest holder. Closing the largest rather than the one asking keeps one stalled giant from
 * locking every other connection out (a small message that happens to span two reads needs room
 * too). The one asking then proceeds on credit of the victim's bytes, which are freed as soon as
 * the victim's event loop closes it: the total may exceed the budget for that moment, by at most
 * what the victims held.
 *
 * <p>Thread-safety: thread-safe. Each holder is charged and refunded on its own event loop only;
 * eviction runs on whichever loop asks, under this budget's monitor.
 */
final class InboundBudget {
  private final long limit;
  private final AtomicLong used = new AtomicLong();
  private final Set<Holder> holders = ConcurrentHashMap.newKeySet();
  /**
   * Bytes of evicted holders not yet refunded and not yet lent out: the room their refunds will
   * make.
   */
  @GuardedBy("this")
  private long credit;

  InboundBudget(long limit) {
    this.limit = limit;
  }

  long limit() {
    return limit;
  }

  /** Bytes charged now, for tests and stats. */
  long used() {
    return used.get();
  }

  /**
   * A new holder for one connection; {@code evict} is told (on any thread) when the budget
   * closes it, with the cause, and must close the connection on its own event loop.
   */
  Holder holder(Consumer<PbException> evict) {
    return new Holder(evict);
  }

  private boolean tryAdd(long n) {
    while (true) {
      long now = used.get();
      if (now + n > limit) {
        return false;
      }
      if (used.compareAndSet(now, now + n)) {
        return true;
      }
    }
  }

  /** What one connection holds. */
  final class Holder {
    private final Consumer<PbException> evict;
    /** Written by the connection's event loop only; read by others choosing a victim. */
    private volatile long held;
    private volatile boolean evicted;

    private Holder(Consumer<PbException> evict) {
      this.evict = evict;
    }

    long held() {
      return held;
    }

    /**
     * Charges {@code n} more bytes, or throws {@link Code#LIMIT_EXCEEDED} when this holder is
     * the one to be closed (then nothing was charged).
     */
    void charge(long n) {
      if (evicted) {
        throw evictedCause(held);
      }
      if (tryAdd(n)) {
        add(n);
        return;
      }
      Holder victim = null;
      synchronized (InboundBudget.this) {
        if (tryAdd(n)) {
          add(n);
          return;
        }
        if (credit < n) {
          victim = largestOtherThan(this);
          if (victim == null || victim.held <= held + n) {
            throw new PbException(
                Code.LIMIT_EXCEEDED,
                "the server's budget for partly received messages and messages waiting to be"
                    + " decoded (" + limit
                    + " bytes, PbServer.Builder.inboundBudget) is used up, and this connection"
                    + " would hold the most (" + (held + n) + " bytes)");
          }
          victim.evicted = true;
          credit += victim.held; // more than n: the victim holds more than this one will
        }
        credit -= n;
        used.addAndGet(n);
        add(n);
      }
      if (victim != null) {
        victim.evict.accept(victim.evictedCause(victim.held));
      }
    }

    private PbException evictedCause(long bytes) {
      return new PbException(
          Code.LIMIT_EXCEEDED,
          "the server's budget for partly received messages and messages waiting to be"
              + " decoded (" + limit
              + " bytes, PbServer.Builder.inboundBudget) ran out, and this connection held the"
              + " most (" + bytes + " bytes)");
    }

    private void add(long n) {
      long before = held;
      held = before + n;
      if (before == 0) {
        holders.add(this);
      }
    }

    /** Refunds everything this holder was charged. Idempotent. */
    void refundAll() {
      refund(held);
    }

    /** Refunds {@code n} bytes of what this holder was charged (at most all of it). */
    void refund(long n) {
      long before = held;
      long back = Math.min(before, Math.max(0, n));
      if (back == 0) {
        return;
      }
      held = before - back;
      if (held == 0) {
        holders.remove(this);
      }
      used.addAndGet(-back);
      if (evicted) {
        synchronized (InboundBudget.this) {
          credit = Math.max(0, credit - back); // the room it lent is real now
        }
      }
    }
  }

  /** The holder, other than {@code asking}, holding the most; under this budget's monitor. */
  @GuardedBy("this")
  private Holder largestOtherThan(Holder asking) {
    Holder largest = null;
    for (Holder h : holders) {
      if (h != asking && !h.evicted && (largest == null || h.held > largest.held)) {
        largest = h;
      }
    }
    return largest;
  }
}
