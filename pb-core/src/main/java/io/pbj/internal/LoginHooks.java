package io.pbj.internal;

/**
 * What the login root of {@code io.pbj.cred} needs of a broker connection beyond the public
 * {@link io.pbj.PbConnection}: the connection's perspective, a listener for when the avatar is
 * dropped, and a goodbye that waits for the current answer. The portal finds these hooks on the
 * {@code PbConnection} a server hands its root factory ({@code connection instanceof LoginHooks});
 * nothing outside the broker implements it.
 *
 * <p>Thread-safety: implementations are thread-safe.
 */
public interface LoginHooks {
  /** The perspective (avatar) this connection logged in as, or null before login. */
  Object perspective();

  /** Sets the perspective, which {@code Viewable} methods receive; null at logout. */
  void setPerspective(Object perspective);

  /**
   * Runs {@code listener} once, on the connection's executor, when the peer has released every
   * reference to the exported {@code object} or the connection closes, whichever comes first (at
   * once if it is already closed).
   */
  void whenDropped(Object object, Runnable listener);

  /**
   * Says goodbye with {@code reason} and closes the connection once the answer to the remote call
   * now running on this thread has been written (at once when called outside a remote method).
   * A remote method that answers with a future must call it before returning the future.
   */
  void goodbyeAfterReply(String reason);
}
