package io.pbj;

/**
 * Marker for objects that cross a connection by reference, never by copy.
 *
 * <p>When a {@code Referenceable} is passed as an argument or returned as a result, the peer
 * receives a {@link RemoteReference} through which it can call the methods this class marks
 * {@link Remote @Remote}; nothing else is reachable. A reference sent back to the connection it
 * came from arrives as the original object.
 *
 * <pre>{@code
 * final class Counter implements Referenceable {
 *   private final AtomicInteger value = new AtomicInteger();
 *
 *   @Remote
 *   public int increment() {
 *     return value.incrementAndGet();
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safety: remote methods of one object may be called from several connections at once;
 * implementations must be as thread-safe as the way they are shared (calls arriving on one
 * connection run one at a time, in arrival order).
 */
public interface Referenceable {}
