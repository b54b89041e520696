package io.pbj.internal;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the completions of one connection's calls one at a time, in the order their answers
 * arrived, on the executor: a sequential executor that also lets a caller blocked on a call's
 * future run that call's completion itself, but only when nothing is queued or running ({@link
 * #tryClaimIdle}), so the order holds either way.
 *
 * <p>Thread-safety: thread-safe; the queue and its flag are guarded by this object's monitor, and
 * no task runs while it is held.
 */
final class CompletionQueue implements Executor {
  private static final Logger log = LoggerFactory.getLogger(CompletionQueue.class);

  /** The queue whose tasks the current thread is running, if any. */
  private static final ThreadLocal<CompletionQueue> DRAINING = new ThreadLocal<>();

  private final Executor executor;

  @GuardedBy("this")
  private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();

  /** A drain is scheduled or running, or a blocked caller holds the claim. */
  @GuardedBy("this")
  private boolean busy;

  CompletionQueue(Executor executor) {
    this.executor = executor;
  }

  /** Runs {@code task} after every task submitted before it, on the executor. */
  @Override
  public void execute(Runnable task) {
    synchronized (this) {
      tasks.add(task);
      if (busy) {
        return;
      }
      busy = true;
    }
    Handoff.execute(executor, this::drain);
  }

  /**
   * Takes the queue for the calling thread if it is idle (nothing queued, nothing running):
   * tasks submitted meanwhile wait until {@link #releaseClaim()}. Returns false if it is busy.
   */
  synchronized boolean tryClaimIdle() {
    if (busy) {
      return false;
    }
    busy = true;
    return true;
  }

  /** Gives back a claim from {@link #tryClaimIdle()}; what was queued meanwhile runs now. */
  void releaseClaim() {
    synchronized (this) {
      if (tasks.isEmpty()) {
        busy = false;
        return;
      }
    }
    Handoff.execute(executor, this::drain);
  }

  /** True when the calling thread is running one of this queue's tasks. */
  boolean isRunningHere() {
    return DRAINING.get() == this;
  }

  private void drain() {
    CompletionQueue outer = DRAINING.get();
    DRAINING.set(this);
    try {
      while (true) {
        Runnable task;
        synchronized (this) {
          task = tasks.poll();
          if (task == null) {
            busy = false;
            return;
          }
        }
        boolean returned = false;
        try {
          task.run();
          returned = true;
        } catch (RuntimeException e) {
          returned = true;
          log.warn("a call completion failed", e);
        } finally {
          if (!returned) {
            Handoff.execute(executor, this::drain); // an Error: the rest still runs, in order
          }
        }
      }
    } finally {
      DRAINING.set(outer);
    }
  }
}
