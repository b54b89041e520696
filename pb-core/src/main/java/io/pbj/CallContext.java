package io.pbj;

import io.pbj.internal.CurrentCall;
import java.util.Optional;

/**
 * The incoming remote call running on the current thread: the connection it came over, the
 * perspective (avatar) that connection logged in as, and the remote method's name. It lets one
 * object shared by every connection tell its callers apart, without a {@link Viewable} parameter
 * or a root per connection.
 *
 * <pre>{@code
 * // one endpoint, exported to every connection
 * final class Lobby implements Referenceable {
 *   private final Map<PbConnection, String> names = new ConcurrentHashMap<>();
 *
 *   @Remote
 *   public void join(String name) {
 *     PbConnection c = CallContext.current().connection();
 *     names.put(c, name);
 *     c.onClose(cause -> names.remove(c));
 *   }
 * }
 * }</pre>
 *
 * <p>The context exists while a {@code @Remote} method runs on the thread the broker called it
 * on: for a call from the peer, and for an update the peer pushes to a {@link RemoteCache} (its
 * connection is the one the cache arrived on; its method the update's name). It is not carried
 * to other threads: a method that returns a {@code CompletableFuture} must read what it needs in
 * its synchronous part, before it hands work elsewhere.
 *
 * <p>Thread-safety: immutable; {@link #current()} and {@link #find()} answer for the calling
 * thread only.
 */
public final class CallContext {
  private final PbConnection connection;
  private final Object perspective;
  private final String method;

  private CallContext(CurrentCall.Frame frame) {
    this.connection = frame.connection();
    this.perspective = frame.perspective();
    this.method = frame.method();
  }

  /**
   * The call running on this thread.
   *
   * @throws IllegalStateException if no remote call is running on this thread
   */
  public static CallContext current() {
    CurrentCall.Frame frame = CurrentCall.get();
    if (frame == null) {
      throw new IllegalStateException(
          "no remote call is running on this thread: CallContext.current() works only in the"
              + " synchronous part of a @Remote method; capture what you need before going"
              + " asynchronous");
    }
    return new CallContext(frame);
  }

  /** The call running on this thread, or empty when none is. */
  public static Optional<CallContext> find() {
    CurrentCall.Frame frame = CurrentCall.get();
    return frame == null ? Optional.empty() : Optional.of(new CallContext(frame));
  }

  /** The connection the call arrived on. */
  public PbConnection connection() {
    return connection;
  }

  /**
   * The perspective (avatar) the connection was logged in as when the call arrived, or null when
   * it has not logged in: the same object a {@link Viewable} target gets as its first argument.
   */
  public Object perspective() {
    return perspective;
  }

  /** The remote name of the method being called (its {@code @Remote} name). */
  public String method() {
    return method;
  }

  @Override
  public String toString() {
    return "CallContext[" + method + " on " + connection + "]";
  }
}
