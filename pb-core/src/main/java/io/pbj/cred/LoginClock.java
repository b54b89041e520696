package io.pbj.cred;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;

/**
 * The time a portal's login throttle reads, and the scheduler that answers a delayed login
 * failure later; tests replace both with a fake clock so that nothing sleeps.
 *
 * <p>Thread-safety: implementations are thread-safe.
 */
interface LoginClock {
  /** A monotonic time in nanoseconds, as {@link System#nanoTime()}. */
  long nanoTime();

  /**
   * Runs {@code task} once, {@code delayNanos} from now, on a thread that is neither the caller's
   * nor a network thread.
   */
  void schedule(Runnable task, long delayNanos);

  /**
   * The real clock. Delays are kept by the JDK's shared daemon thread behind {@link
   * CompletableFuture#delayedExecutor}, which only waits; the task itself runs on the common
   * fork-join pool. So a portal owns no thread and needs no closing, and the failure answers it
   * delays are sent from a pool thread, never from an event loop. (Passing the pool explicitly
   * matters: on a machine with one or two cores the default would start a thread per task.)
   */
  LoginClock SYSTEM =
      new LoginClock() {
        @Override
        public long nanoTime() {
          return System.nanoTime();
        }

        @Override
        public void schedule(Runnable task, long delayNanos) {
          CompletableFuture.delayedExecutor(
                  delayNanos, TimeUnit.NANOSECONDS, ForkJoinPool.commonPool())
              .execute(task);
        }

        @Override
        public String toString() {
          return "LoginClock.SYSTEM";
        }
      };
}
