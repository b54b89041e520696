package io.pbj.internal;

import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.Executor;

/**
 * An executor that only queues: the test runs the tasks by hand, on its own thread, so every
 * hand-off is deterministic (as grpc's {@code SerializingExecutorTest} does with a fake).
 *
 * <p>Thread-safety: thread-safe; tasks run on the thread that calls {@link #runAll} or
 * {@link #runNext}.
 */
final class QueuedExecutor implements Executor {
  private final Queue<Runnable> tasks = new ArrayDeque<>();

  @Override
  public synchronized void execute(Runnable task) {
    tasks.add(task);
  }

  synchronized int queued() {
    return tasks.size();
  }

  /** Runs the oldest queued task; fails if there is none. */
  void runNext() {
    Runnable task;
    synchronized (this) {
      task = tasks.poll();
    }
    if (task == null) {
      throw new AssertionError("no task is queued");
    }
    task.run();
  }

  /** Runs queued tasks, and those they queue, until none is left; returns how many ran. */
  int runAll() {
    int ran = 0;
    while (true) {
      Runnable task;
      synchronized (this) {
        task = tasks.poll();
      }
      if (task == null) {
        return ran;
      }
      task.run();
      ran++;
    }
  }
}
