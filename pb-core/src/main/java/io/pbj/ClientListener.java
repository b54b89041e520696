package io.pbj;

import java.time.Duration;

/**
 * Told when a {@link PbClient}'s session comes and goes. Events arrive one at a time, in the order
 * they happened, on the client's executor (never a network thread): {@code connected} after the
 * first connection; then, when it is lost, {@code disconnected}, and with a {@link
 * ReconnectPolicy} {@code reconnecting} before each attempt until {@code connected} again.
 *
 * <pre>{@code
 * PbClient.builder()
 *     .address("localhost", 7000)
 *     .reconnect(ReconnectPolicy.defaults())
 *     .onSession(root -> Login.login(root, credentials, mind))
 *     .listener(new ClientListener() {
 *       public void connected(RemoteReference avatar) { ui.online(avatar); }
 *       public void disconnected(PbException cause) { ui.offline(cause.detail()); }
 *     })
 *     .build()
 *     .start();
 * }</pre>
 *
 * <p>Thread-safety: the client calls a listener from one thread at a time; a listener shared by
 * several clients must be thread-safe itself.
 */
public interface ClientListener {

  /**
   * A session is ready: {@code session} is what the client's session initializer made of the
   * server's root (the root itself without one). Calls on it go to the new connection.
   */
  default void connected(RemoteReference session) {}

  /**
   * The session was lost, with the cause ({@link PbException.Code#CONNECTION_LOST} for a close).
   * Calls that were pending on it have failed.
   */
  default void disconnected(PbException cause) {}

  /**
   * The client will try to connect again after {@code delay}; {@code attempt} counts from 1 after
   * each loss; {@code lastFailure} is why the previous attempt (or the session) ended.
   */
  default void reconnecting(int attempt, Duration delay, PbException lastFailure) {}

  /**
   * The client stopped: it was shut down, or a session could not be made for a reason that
   * another attempt would not fix (e.g. login refused), given as {@code cause}.
   */
  default void stopped(PbException cause) {}
}
