package io.pbj;

/**
 * What a {@link Cacheable} does when an observer's connection cannot take its updates as fast as
 * they are pushed. Updates wait in a queue of at most {@link #maxQueued()} per observer while the
 * connection is not writable; when the queue is full:
 *
 * <ul>
 *   <li>{@link Mode#COALESCE}: the queued updates are dropped, and once the connection is writable
 *       again the observer receives the whole current state ({@link Cacheable#stateFor} is called
 *       again and its {@link RemoteCache#setState} runs). An update pushed while that state is
 *       being taken is not sent as an update, since it may already be in the state: another fresh
 *       state follows instead. So if every push happens under the lock that guards what {@code
 *       stateFor} reads (change the state, then push, inside the lock), no update is applied twice
 *       and none is lost.
 *   <li>{@link Mode#DISCONNECT}: the slow connection is closed with {@link
 *       PbException.Code#LIMIT_EXCEEDED}.
 * </ul>
 *
 * <p>Either way the server's memory per slow client is bounded by the queue and the channel's
 * write buffer.
 *
 * <p>Thread-safety: immutable.
 *
 * @param mode what happens when the queue is full
 * @param maxQueued most updates queued per observer
 */
public record Backpressure(Mode mode, int maxQueued) {
  /** The default: coalesce after 1024 queued updates. */
  public static final Backpressure DEFAULT = new Backpressure(Mode.COALESCE, 1024);

  /** The policy when an observer's queue is full. */
  public enum Mode {
    COALESCE,
    DISCONNECT
  }

  public Backpressure {
    if (mode == null) {
      throw new IllegalArgumentException("Backpressure mode must not be null");
    }
    if (maxQueued < 1) {
      throw new IllegalArgumentException("Backpressure maxQueued must be positive, got " + maxQueued);
    }
  }

  public static Backpressure coalesce(int maxQueued) {
    return new Backpressure(Mode.COALESCE, maxQueued);
  }

  public static Backpressure disconnect(int maxQueued) {
    return new Backpressure(Mode.DISCONNECT, maxQueued);
  }
}
