package io.pbj;

/**
 * A server object whose state is copied to each connection it is sent to, and kept current by
 * updates the server pushes. The receiver gets a {@link RemoteCache} of the class registered for
 * this one ({@link PbRegistry.Builder#registerCache}).
 *
 * <pre>{@code
 * interface RoomUpdates {                    // the updates RoomCache accepts
 *   void said(String text);
 * }
 *
 * final class Room implements Cacheable {
 *   private final List<String> messages = new ArrayList<>();
 *   private final ObserverSet<RoomUpdates> observers = ObserverSet.of(RoomUpdates.class);
 *
 *   public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
 *     observers.add(observer);
 *     return List.copyOf(messages);
 *   }
 *
 *   public void stoppedObserving(Object perspective, RemoteObserver observer) {
 *     observers.remove(observer);
 *   }
 *
 *   synchronized void say(String text) {
 *     messages.add(text);
 *     observers.all().said(text);            // runs RoomCache.said(text) on every observer
 *   }
 * }
 * }</pre>
 *
 * <p>Updates go through an interface ({@link ObserverSet}, {@link RemoteObserver#as}) or by name
 * ({@link RemoteObserver#callRemote}). An update that fails on the receiver is reported back to
 * this side: {@link BrokerBuilder#onUpdateFailure}.
 *
 * <p>The same Cacheable sent twice on one connection arrives as the same RemoteCache; a
 * RemoteCache sent back arrives as the original Cacheable. Each send carries the state again
 * (the receiver keeps its instance and ignores it), so resending a large Cacheable costs its
 * state's bytes.
 *
 * <p>Thread-safety: {@link #stateFor} and {@link #stoppedObserving} are called from executor
 * threads of any connection, possibly at the same time: implementations must be thread-safe.
 */
public interface Cacheable {

  /**
   * The state to send to a new observer: a registered value. Called on the thread that sends the
   * Cacheable (never a network thread), each time it is sent. {@code perspective} is the avatar
   * the connection logged in as, or null.
   */
  Object stateFor(Object perspective, RemoteObserver observer);

  /** The observer's connection released its cache, or closed. Called once per observer. */
  default void stoppedObserving(Object perspective, RemoteObserver observer) {}

  /**
   * The registered Cacheable class this object travels as: its receiver creates the RemoteCache
   * registered for that class. Default: this object's own class. A forwarding object (a relay
   * re-serving an upstream object, say) returns the registered class it stands in for, which
   * must be registered with {@link PbRegistry.Builder#registerCache}. PBJ uses it only to pick the
   * wire id; this object's own class need not be registered and never reaches the receiver.
   */
  default Class<? extends Cacheable> sentAs() {
    return getClass();
  }

  /** What to do when an observer's connection cannot keep up. Default: coalesce after 1024. */
  default Backpressure backpressure() {
    return Backpressure.DEFAULT;
  }
}
