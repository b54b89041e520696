package io.pbj.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batches the releases of imported objects into {@link Message.Release} messages: releases queue
 * from any thread (the application's or the garbage collector's cleaner), and one flush on the
 * event loop sends everything queued by then, split so that no message exceeds the message limit.
 *
 * <p>Thread-safety: thread-safe; {@link #add} may be called from any thread.
 */
final class ReleaseBatcher {
  private static final Logger log = LoggerFactory.getLogger(ReleaseBatcher.class);

  private final Object owner;
  private final Executor eventLoop;
  private final int perMessage;
  private final BooleanSupplier open;
  private final Consumer<Message.Release> sender;
  private final ConcurrentLinkedQueue<long[]> queue = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean flushScheduled = new AtomicBoolean();

  /**
   * @param owner names the connection in log lines
   * @param eventLoop where flushes run
   * @param maxMessage the message limit the batches must fit
   * @param open false once the connection is closed: nothing is sent then
   * @param sender sends one batch; may throw
   */
  ReleaseBatcher(
      Object owner,
      Executor eventLoop,
      int maxMessage,
      BooleanSupplier open,
      Consumer<Message.Release> sender) {
    this.owner = owner;
    this.eventLoop = eventLoop;
    this.perMessage = perMessage(maxMessage);
    this.open = open;
    this.sender = sender;
  }

  /**
   * Entries per message: at most about 12 bytes each (two varints), so a batch stays well inside
   * even the smallest message limit.
   */
  static int perMessage(int maxMessage) {
    return Math.max(16, Math.min(4096, maxMessage / 16));
  }

  /** Queues the release of {@code id}, received {@code receipts} times, and schedules a flush. */
  void add(int id, int receipts) {
    queue.add(new long[] {id, receipts});
    if (flushScheduled.compareAndSet(false, true)) {
      eventLoop.execute(this::flush);
    }
  }

  /** Forgets everything queued (the connection closed). */
  void clear() {
    queue.clear();
  }

  private void flush() {
    flushScheduled.set(false);
    List<long[]> batch = new ArrayList<>();
    for (long[] r; (r = queue.poll()) != null; ) {
      batch.add(r);
    }
    if (batch.isEmpty() || !open.getAsBoolean()) {
      return;
    }
    for (int from = 0; from < batch.size(); from += perMessage) {
      int n = Math.min(perMessage, batch.size() - from);
      int[] ids = new int[n];
      int[] receipts = new int[n];
      for (int i = 0; i < n; i++) {
        ids[i] = (int) batch.get(from + i)[0];
        receipts[i] = (int) batch.get(from + i)[1];
      }
      try {
        sender.accept(new Message.Release(ids, receipts));
      } catch (RuntimeException e) {
        log.error("{}: could not send a release batch of {} ids", owner, n, e);
      }
    }
  }
}
