package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection's sequence of incoming work (calls, cache pushes, the root's creation): runs
 * tasks one at a time, in the order they arrived, on the executor, and starts none while {@code
 * mayStart} says no. A server holds a connection's calls back while the peer leaves what it
 * writes unread: otherwise every call read before reading stopped would still run and queue its
 * answer, however large, and a client that pipelines cheap calls with large answers could make
 * the server hold them all. {@link #resume()} starts them again. Past {@link #QUEUED_MAX} waiting
 * tasks it asks for the connection not to be read until half have run, so a peer cannot queue
 * calls faster than they run without end either.
 *
 * <p>Thread-safety: thread-safe; the queue is guarded by this object's monitor, and no task runs
 * while it is held.
 */
final class CallSequence implements Executor {
  private static final Logger log = LoggerFactory.getLogger(CallSequence.class);

  /**
   * Tasks waiting above which the connection is no longer read, until half of them have run: a
   * peer that sends cheap calls faster than the executor runs them (a slow method, a busy pool)
   * must not queue decoded calls without end.
   */
  static final int QUEUED_MAX = 1024;

  private final Executor executor;
  private final BooleanSupplier mayStart;
  /** Told true when the backlog passes {@link #QUEUED_MAX}, false when it is down to half. */
  private final Consumer<Boolean> backlog;

  /** Whether the backlog has been reported and not yet taken back. */
  @GuardedBy("this")
  private boolean backlogged;

  @GuardedBy("this")
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

  /** A drain is scheduled or running. */
  @GuardedBy("this")
  private boolean running;

  /** A task ran on the executor since the last {@link #runHereIfIdle} ran one on the loop. */
  @GuardedBy("this")
  private boolean ranOnExecutor;

  CallSequence(Executor executor, BooleanSupplier mayStart, Consumer<Boolean> backlog) {
    this.executor = executor;
    this.mayStart = mayStart;
    this.backlog = backlog;
  }

  /** Runs {@code task} after every task submitted before it. */
  @Override
  public void execute(Runnable task) {
    boolean start;
    boolean report;
    synchronized (this) {
      tasks.add(task);
      report = !backlogged && tasks.size() > QUEUED_MAX;
      backlogged |= report;
      start = !running;
      running = true;
    }
    if (report) {
      backlog.accept(true);
    }
    if (start) {
      Handoff.execute(executor, this::drain);
    }
  }

  /**
   * Runs {@code task} on the calling thread, the event loop {@code loop}, if that keeps the order:
   * nothing is waiting or running and {@code mayStart} allows it. Returns false, without running
   * it, otherwise (the caller then {@link #execute}s it). Tasks submitted while it runs wait for
   * it, as they would behind a task on the executor. For {@link io.pbj.Remote#direct()} calls.
   *
   * <p>When the task before it ran on the executor, its answer may still be waiting in the loop's
   * task queue (a write from another thread is a task for the loop): running this one at once
   * would let its answer overtake that one. Then it runs as a task of {@code loop}, behind them,
   * and holds the sequence until it has run.
   */
  boolean runHereIfIdle(Runnable task, Executor loop) {
    boolean behindExecutor;
    synchronized (this) {
      if (running || !tasks.isEmpty() || !mayStart.getAsBoolean()) {
        return false;
      }
      running = true;
      behindExecutor = ranOnExecutor;
      ranOnExecutor = false;
    }
    if (behindExecutor) {
      Handoff.execute(loop, () -> runClaimed(task));
    } else {
      runClaimed(task);
    }
    return true;
  }

  /** Runs {@code task}, which holds the sequence, then lets what arrived meanwhile run in turn. */
  private void runClaimed(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      log.warn("a task of a connection's sequence failed", e);
    } finally {
      boolean more;
      synchronized (this) {
        more = !tasks.isEmpty();
        running = more;
      }
      if (more) {
        Handoff.execute(executor, this::drain); // what arrived meanwhile runs next, in order
      }
    }
  }

  /** Starts the tasks held back, if {@code mayStart} allows it now. */
  void resume() {
    synchronized (this) {
      if (running || tasks.isEmpty()) {
        return;
      }
      running = true;
    }
    Handoff.execute(executor, this::drain);
  }

  private void drain() {
    while (true) {
      Runnable task;
      boolean held = false;
      boolean relieved = false;
      synchronized (this) {
        if (tasks.isEmpty()) {
          running = false;
          return;
        }
        if (!mayStart.getAsBoolean()) {
          running = false;
          held = true;
          task = null;
        } else {
          task = tasks.poll();
          ranOnExecutor = true;
          relieved = backlogged && tasks.size() <= QUEUED_MAX / 2;
          backlogged &= !relieved;
        }
      }
      if (relieved) {
        backlog.accept(false);
      }
      if (held) {
        if (mayStart.getAsBoolean()) {
          resume(); // it changed while we stopped: whoever said so may have found us running
        }
        return;
      }
      boolean returned = false;
      try {
        task.run();
        returned = true;
      } catch (RuntimeException e) {
        returned = true;
        log.warn("a task of a connection's sequence failed", e);
      } finally {
        if (!returned) {
          Handoff.execute(executor, this::drain); // an Error: the rest still runs, in order
        }
      }
    }
  }
}
