package io.pbj;

import java.util.concurrent.CompletableFuture;

/**
 * One connection's view of a {@link Cacheable}, handed to the Cacheable so it can push updates:
 * by name ({@link #callRemote}), or typed through an interface of update methods ({@link #as}),
 * which the compiler checks and which is checked against the receiver's {@link RemoteCache} class
 * when the registry names it. An {@link ObserverSet} keeps a Cacheable's observers and pushes to
 * all of them.
 *
 * <pre>{@code
 * interface ScoreboardApi {       // the updates ScoreboardCache accepts
 *   void scored(String player, int points);
 * }
 *
 * ScoreboardApi view = observer.as(ScoreboardApi.class);
 * view.scored("ann", 3);          // runs ScoreboardCache.scored("ann", 3) on the client
 * }</pre>
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

  /**
   * A view of this observer through {@code updates}, an interface whose methods push updates:
   * calling one is {@link #callRemote} of its name ({@link Remote#value()} if the method carries
   * {@code @Remote} with a name, else the method's own name) with its arguments. Each method
   * returns {@code void} or {@code CompletableFuture<Void>} (the future of {@link #callRemote});
   * default methods run as written. Making the view checks the interface: update names unique
   * and of valid length, and, when this side's registry names the receiver's {@link RemoteCache}
   * class for the Cacheable, that the class has a {@code @Remote} method of each name, taking as
   * many parameters, of types a value of the declared type can arrive as. A receiver class that
   * implements {@code updates}, whose methods are marked {@code @Remote} (in the interface or the
   * class), always passes.
   *
   * @throws IllegalArgumentException naming {@code Interface.method} and what is wrong with it
   */
  <T> T as(Class<T> updates);

  /**
   * Pushes one update to each of {@code observers}, in their order: as {@link #callRemote} on
   * each in turn, without the futures, and cheaper. When no argument is a reference, cache or view
   * (the values whose bytes depend on the connection), the arguments are encoded once for all
   * the connections of one broker and the bytes shared; otherwise each connection encodes its own
   * as {@code callRemote} does, and each peer resolves its own references. Every observer's
   * guarantees hold as with {@code callRemote}: its updates arrive in the order pushed from one
   * thread, and its {@link Backpressure} applies. Observers that have stopped are skipped.
   *
   * <pre>{@code
   * // in a Cacheable that keeps its observers in a list
   * RemoteObserver.callRemoteAll(observers, "moved", x, y);
   * }</pre>
   *
   * @throws PbException if the arguments cannot be encoded (thrown once every other observer
   *     has had its turn)
   */
  static void callRemoteAll(
      Iterable<? extends RemoteObserver> observers, String method, Object... args) {
    io.pbj.internal.Fanout.callRemoteAll(observers, method, args);
  }

  /** The connection this observer is on. */
  PbConnection connection();

  /** The perspective of the connection when it started observing, or null. */
  Object perspective();

  /** True until the cache is released or the connection closes. */
  boolean isObserving();

  /** Updates waiting for the connection to become writable. */
  int queuedUpdates();
}
