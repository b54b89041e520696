package io.pbj;

import java.util.concurrent.CompletableFuture;

/**
 * One connection's view of a {@link Cacheable}, handed to the Cacheable so it can push updates.
 *
 * <p>Thread-safety: thread-safe; updates pushed from one thread arrive in the order pushed.
 */
public interface RemoteObserver {

  /**
   * Runs the {@link Remote @Remote} method {@code method} of the observer's {@link RemoteCache}
   * with {@code args}. The future completes when the update has been handed to the network (or
   * queued or coalesced under {@link Backpressure}); it fails with {@link
   * PbException.Code#DEAD_REFERENCE} once the observer has stopped.
   */
  CompletableFuture<Void> callRemote(String method, Object... args);

  /** The connection this observer is on. */
  PbConnection connection();

  /** The perspective of the connection when it started observing, or null. */
  Object perspective();

  /** True until the cache is released or the connection closes. */
  boolean isObserving();

  /** Updates waiting for the connection to become writable. */
  int queuedUpdates();
}
