package io.pbj;

/**
 * Told what a broker does, for metrics and tracing: connections opening and closing (with what
 * crossed them), calls starting and ending (with their latency and outcome), {@link Cacheable}
 * updates pushed, and backpressure. Installed with {@link BrokerBuilder#eventListener}; the
 * {@code pb-micrometer} module has one that feeds Micrometer. Every method has an empty default,
 * so a listener overrides what it needs.
 *
 * <pre>{@code
 * LongAdder failures = new LongAdder();
 * PbServer.builder()
 *     .port(7000)
 *     .root(lobby)
 *     .eventListener(new PbListener() {
 *       public void callEnded(PbCall call, long nanos, Throwable failure) {
 *         if (failure != null) failures.increment();
 *       }
 *     })
 *     .build()
 *     .start();
 * }</pre>
 *
 * <p>Cost: with no listener, no interceptor and no JFR recording, the broker makes no object and
 * no call for any of this. With one, each event is one method call on the thread where it
 * happened; keep listeners fast (count, do not log every call) and never block in them.
 *
 * <p>Threads: never a network thread. Connection events run on the broker's executor; call
 * events on the thread that makes the call or runs it (start) and where its outcome is known
 * (end); push events on the pushing thread or the executor; backpressure events on the executor.
 * Events of different calls and connections arrive concurrently and in no set order; the end of
 * a call always comes after its start, and a connection's close after its opening (a connection
 * that fails before its handshake completes is reported neither opened nor closed). A listener that throws is logged and otherwise ignored.
 *
 * <p>Thread-safety: one listener serves every connection of its broker from many threads at
 * once; it must be thread-safe.
 */
public interface PbListener {

  /** What a {@link #backpressure} event reports. Thread-safety: immutable. */
  enum Pressure {
    /**
     * An observer's queue of {@link Cacheable} updates was full and, as {@link
     * Backpressure.Mode#COALESCE} says, was dropped for a fresh state.
     */
    UPDATES_COALESCED,
    /**
     * An observer's queue was full and, as {@link Backpressure.Mode#DISCONNECT} says, its
     * connection was closed.
     */
    SLOW_CONSUMER_DISCONNECTED,
    /**
     * Too many incoming calls waited to run on one connection, so the broker stopped reading from
     * it until they drain.
     */
    READS_PAUSED
  }

  /**
   * A connection completed its handshake and is ready for calls; reported before any call or
   * Cacheable push that the connection receives runs. Those wait until it returns: a listener
   * that blocks here, worse on a remote call whose far side calls back over this connection,
   * holds up (or deadlocks) the connection.
   */
  default void connectionOpened(PbConnection connection) {}

  /**
   * A connection closed, for {@code cause}; {@link PbConnection#stats()} has its final counts
   * (bytes and messages in each direction).
   */
  default void connectionClosed(PbConnection connection, PbException cause) {}

  /** A call starts: on the client side as it is made, on the server side as its method runs. */
  default void callStarted(PbCall call) {}

  /**
   * A call ended after {@code nanos} nanoseconds (from {@link #callStarted}): its answer arrived
   * (client) or was produced (server), or it failed with {@code failure} (null on success), which
   * may be a {@link PbException} or, on the server side, what the method threw. A one-way call
   * ends when it is written (client) or has run (server). It runs before the caller's future
   * completes (client) and before the answer is sent (server).
   */
  default void callEnded(PbCall call, long nanos, Throwable failure) {}

  /**
   * A {@link RemoteObserver#callRemote} update of {@code cacheable} was taken: written, queued
   * behind others, or folded into a fresh state under backpressure.
   */
  default void pushSent(PbConnection connection, Class<?> cacheable, String method) {}

  /**
   * A {@link RemoteObserver#callRemote} update of {@code cacheable} failed: the observer had
   * stopped, the update could not be encoded or written, or its connection was closed for
   * backpressure.
   */
  default void pushFailed(
      PbConnection connection, Class<?> cacheable, String method, Throwable failure) {}

  /**
   * Backpressure acted on {@code connection}: {@code detail} names what (the Cacheable class, the
   * limit and its value).
   */
  default void backpressure(PbConnection connection, Pressure pressure, String detail) {}
}
