package io.pbj.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Work done once, by whichever caller asks first: for a report that has two ways to run (in its
 * turn on a connection's call sequence, or ahead of the close when the sequence never gets to
 * it), where what follows must wait until it was done.
 *
 * <p>Thread-safety: thread-safe; the claim is atomic and the work runs outside any lock.
 */
final class Once {
  private final Runnable work;
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final CompletableFuture<Void> done = new CompletableFuture<>();

  Once(Runnable work) {
    this.work = work;
  }

  /** Does the work unless it is being or was done already; true if this call did it. */
  boolean run() {
    if (!claimed.compareAndSet(false, true)) {
      return false;
    }
    try {
      work.run();
    } finally {
      done.complete(null);
    }
    return true;
  }

  /** Does the work, or waits until the caller that claimed it has done it. */
  void runOrAwait() {
    if (!run()) {
      done.join();
    }
  }

  /** Completes once the work was done (normally or not). */
  CompletableFuture<Void> done() {
    return done;
  }
}
