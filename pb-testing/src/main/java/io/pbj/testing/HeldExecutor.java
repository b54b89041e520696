package io.pbj.testing;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * An executor for tests of ordering: while it holds, it keeps the tasks given to it; released,
 * it runs them one after another on its one thread, in the order they came or newest first, and
 * from then on runs tasks as they come. Give it to a server or client builder ({@code
 * executor(...)}) to make certain an order that a busy pool produces only now and then: a call
 * that runs before a listener, an answer that completes before a call read ahead of it.
 *
 * <pre>{@code
 * HeldExecutor executor = cleanup.register(HeldExecutor.holding());
 * PbServer server = cleanup.register(
 *     PbServer.builder().inProcess("t").root(root).executor(executor).build().start());
 * ... // whatever the server's executor would run waits
 * executor.release();
 * }</pre>
 *
 * <p>Its thread is named {@code pbj-held-executor}, so {@link PbCleanup} reports it if the test
 * does not close it (register it, as above).
 *
 * <p>Thread-safety: thread-safe.
 */
public final class HeldExecutor implements Executor, AutoCloseable {
  private final ExecutorService runner =
      Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, "pbj-held-executor");
            t.setDaemon(true);
            return t;
          });
  private List<Runnable> held;

  private HeldExecutor(boolean holding) {
    held = holding ? new ArrayList<>() : null;
  }

  /** An executor that holds from the start. */
  public static HeldExecutor holding() {
    return new HeldExecutor(true);
  }

  /** An executor that runs tasks as they come until {@link #hold()}. */
  public static HeldExecutor running() {
    return new HeldExecutor(false);
  }

  @Override
  public synchronized void execute(Runnable task) {
    if (held != null) {
      held.add(task);
    } else {
      runner.execute(task);
    }
  }

  /** Keeps the tasks given from now on, until a release. */
  public synchronized void hold() {
    if (held == null) {
      held = new ArrayList<>();
    }
  }

  /** How many tasks it holds. */
  public synchronized int held() {
    return held == null ? 0 : held.size();
  }

  /**
   * Runs the tasks held now, in the order they came, on the calling thread, and goes on holding:
   * tasks they give it meanwhile are held. For stepping through what one event sets off.
   */
  public void runHeld() {
    List<Runnable> tasks;
    synchronized (this) {
      if (held == null) {
        return;
      }
      tasks = List.copyOf(held);
      held.clear();
    }
    tasks.forEach(Runnable::run);
  }

  /** Runs the held tasks in the order they came, then runs tasks as they come. */
  public synchronized void release() {
    if (held != null) {
      held.forEach(runner::execute);
      held = null;
    }
  }

  /** Runs the held tasks newest first, then runs tasks as they come. */
  public synchronized void releaseNewestFirst() {
    if (held != null) {
      Collections.reverse(held);
      release();
    }
  }

  /** Stops its thread; tasks not yet run are dropped. */
  @Override
  public void close() {
    runner.shutdownNow();
  }
}
