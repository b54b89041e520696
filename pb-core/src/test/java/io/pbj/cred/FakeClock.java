package io.pbj.cred;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A login clock that moves only when a test moves it (grpc's FakeClock): scheduled tasks run on
 * the test's thread, in due order, as time passes them.
 *
 * <p>Thread-safety: thread-safe; tasks run outside its lock.
 */
final class FakeClock implements LoginClock {
  private record Task(long due, long seq, Runnable task) {}

  private final List<Task> tasks = new ArrayList<>();
  private long now = 1_000_000_000L;
  private long seq;

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized void schedule(Runnable task, long delayNanos) {
    tasks.add(new Task(now + delayNanos, seq++, task));
  }

  /** Moves time forward by {@code d}, running every task that falls due on the way. */
  void advance(Duration d) {
    long target;
    synchronized (this) {
      target = now + d.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = earliest(t -> true);
        if (next == null || next.due() > target) {
          now = target;
          return;
        }
        tasks.remove(next);
        now = Math.max(now, next.due());
      }
      next.task().run();
    }
  }

  /** True while a delayed login failure waits for time to pass. */
  synchronized boolean hasDelayedFailure() {
    return earliest(t -> t.task() instanceof LoginRoot.DelayedFailure) != null;
  }

  /**
   * Moves time to the earliest delayed login failure and runs it (and anything due before it);
   * answers how far time moved.
   */
  long advanceToNextDelayedFailure() {
    Task next;
    long start;
    synchronized (this) {
      next = earliest(t -> t.task() instanceof LoginRoot.DelayedFailure);
      if (next == null) {
        throw new IllegalStateException("no delayed login failure is scheduled");
      }
      start = now;
    }
    advance(Duration.ofNanos(Math.max(0, next.due() - start)));
    return next.due() - start;
  }

  private Task earliest(java.util.function.Predicate<Task> filter) {
    return tasks.stream()
        .filter(filter)
        .min(Comparator.comparingLong(Task::due).thenComparingLong(Task::seq))
        .orElse(null);
  }
}
