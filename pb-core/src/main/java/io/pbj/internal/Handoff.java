package io.pbj.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RejectedExecutionException;

/**
 * Hands work from a network thread to an executor, never running it in place: when the executor
 * refuses (it was shut down while the connection still had work), the common pool runs it, so a
 * pending future still completes and a listener still runs.
 *
 * <p>Thread-safety: stateless.
 */
final class Handoff {
  private Handoff() {}

  /** Runs {@code task} on {@code executor}, or on the common pool if the executor refuses it. */
  static void execute(Executor executor, Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      ForkJoinPool.commonPool().execute(task);
    }
  }

  /** Completes {@code future} with {@code value} on {@code executor}. */
  static <T> void complete(Executor executor, CompletableFuture<T> future, T value) {
    execute(executor, () -> future.complete(value));
  }

  /** Fails {@code future} with {@code cause} on {@code executor}. */
  static void fail(Executor executor, CompletableFuture<?> future, Throwable cause) {
    execute(executor, () -> future.completeExceptionally(cause));
  }
}
