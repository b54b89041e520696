package io.pbj.internal;

import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.UpdateFailure;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The peer's UPDATE_FAILED notices on one connection: each becomes an {@link UpdateFailure} for
 * the broker's listener, a count in the connection's stats and a (rate-limited) log line.
 *
 * <p>A peer can send notices whether or not anything failed, so what they cost is bounded: a
 * notice is at most {@link Wire#MAX_NOTICE} bytes (checked before it is decoded); the peer may
 * send at most one per push this side sent on the connection, and one more closes the connection
 * with a protocol error; and at most {@link #MAX_PENDING} notices wait for the listener at a
 * time, the rest are counted but not delivered. So the work a peer can cause is at most a
 * constant per push this side chose to send. The listener gets one connection's failures one at
 * a time, in the order they arrived.
 *
 * <p>Thread-safety: thread-safe; notices arrive on the event loop, pushes are counted on any
 * thread, the listener runs on the executor.
 */
final class UpdateFailures {
  private static final Logger log = LoggerFactory.getLogger(UpdateFailures.class);
  private static final LogLimiter LOGGED = new LogLimiter(10);

  /** Most notices waiting for the listener on one connection. */
  static final int MAX_PENDING = 64;

  private final Connection connection;
  private final Consumer<? super UpdateFailure> listener;
  /** Pushes (CACHE_UPDATE and CACHE_STATE) this side encoded for the peer. */
  private final AtomicLong pushesSent = new AtomicLong();
  /** Notices accepted from the peer. */
  private final AtomicLong notices = new AtomicLong();
  private final LongAdder reported = new LongAdder();
  /** Failures accepted for the listener and not yet through it (at most MAX_PENDING). */
  private final AtomicInteger pending = new AtomicInteger();
  private final java.util.Queue<UpdateFailure> waiting =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.util.concurrent.atomic.AtomicBoolean delivering =
      new java.util.concurrent.atomic.AtomicBoolean();

  UpdateFailures(Connection connection, Consumer<? super UpdateFailure> listener) {
    this.connection = connection;
    this.listener = listener;
  }

  /** One more push is on its way to the peer: it may report one failure for it. */
  void pushSent() {
    pushesSent.incrementAndGet();
  }

  /** Failures the peer reported so far. */
  long reported() {
    return reported.sum();
  }

  /**
   * A notice from the peer (on the event loop). One more than the pushes sent is a protocol error
   * (thrown, which closes the connection); a notice for an id that is not an exported Cacheable
   * is counted against that allowance and otherwise dropped.
   */
  void received(Message.UpdateFailed notice, Object exported) {
    long n = notices.incrementAndGet();
    long sent = pushesSent.get();
    if (n > sent) {
      throw new PbException(
          Code.PROTOCOL_ERROR,
          "the peer reported " + n + " failed cache updates, but was sent only " + sent);
    }
    if (!(exported instanceof Cacheable cacheable)) {
      return; // released and dropped here meanwhile, or a hostile id: nothing to tell
    }
    reported.increment();
    UpdateFailure failure =
        new UpdateFailure(
            connection,
            cacheable,
            printable(notice.method()),
            code(notice.code()),
            printable(notice.detail()));
    LOGGED.warn(
        log,
        "{}: the peer failed to apply update '{}' of {}: {} {}",
        connection,
        failure.method(),
        cacheable.getClass().getName(),
        failure.code(),
        failure.detail());
    if (listener == null) {
      return;
    }
    if (pending.incrementAndGet() > MAX_PENDING) {
      pending.decrementAndGet();
      return; // the listener is far behind: counted, not delivered
    }
    waiting.add(failure);
    if (delivering.compareAndSet(false, true)) {
      Handoff.execute(connection.executor(), this::deliver);
    }
  }

  /** Runs the listener for what waits, one failure at a time and in arrival order. */
  private void deliver() {
    while (true) {
      for (UpdateFailure f; (f = waiting.poll()) != null; ) {
        try {
          listener.accept(f);
        } catch (RuntimeException e) {
          LOGGED.warn(log, "{}: the update-failure listener failed", connection, e);
        } finally {
          pending.decrementAndGet();
        }
      }
      delivering.set(false);
      // a failure added after the last poll, whose sender saw this task still delivering
      if (waiting.isEmpty() || !delivering.compareAndSet(false, true)) {
        return;
      }
    }
  }

  /**
   * The peer's text without control, format (bidi override) or line-separator characters (it ends
   * up in logs), "" for null.
   */
  private static String printable(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder b = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      int type = Character.getType(c); // line breaks and bidi overrides forge log lines too
      if (Character.isISOControl(c) || type == Character.FORMAT
          || type == Character.LINE_SEPARATOR || type == Character.PARAGRAPH_SEPARATOR) {
        if (b == null) {
          b = new StringBuilder(text.length()).append(text, 0, i);
        }
        b.append('?');
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? text : b.toString();
  }

  private static Code code(String name) {
    if (name != null) {
      for (Code c : Code.values()) {
        if (c.name().equals(name)) {
          return c;
        }
      }
    }
    return Code.REMOTE_FAILURE;
  }
}
