package io.pbj;

import java.net.SocketAddress;
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
 * <p>A client given several addresses (see {@link PbClient.Builder#addresses}) says which one each
 * event concerns through the overloads that take a {@link SocketAddress}; they call the shorter
 * ones by default, so a listener overrides whichever it needs (the client calls only the longer).
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
   * A session is ready on the connection to {@code address} (the address as dialled: an {@link
   * java.net.InetSocketAddress} over TCP, the in-process name's address otherwise). Calls {@link
   * #connected(RemoteReference)} unless overridden.
   */
  default void connected(RemoteReference session, SocketAddress address) {
    connected(session);
  }

  /**
   * The session was lost, with the cause ({@link PbException.Code#CONNECTION_LOST} for a close).
   * Calls that were pending on it have failed.
   */
  default void disconnected(PbException cause) {}

  /**
   * The client will try to connect again after {@code delay}; {@code attempt} counts from 1 after
   * each loss (without a reconnect policy, this happens only while a client with several
   * addresses tries each once for its first connection); {@code lastFailure} is why the previous
   * attempt (or the session) ended.
   */
  default void reconnecting(int attempt, Duration delay, PbException lastFailure) {}

  /**
   * As {@link #reconnecting(int, Duration, PbException)}, naming the address the attempt will
   * dial: with several addresses, the one after the address that failed or was lost (unless
   * {@link PbClient#updateAddresses} replaces the list during the delay and drops it). Calls the
   * shorter method unless overridden.
   */
  default void reconnecting(
      int attempt, Duration delay, PbException lastFailure, SocketAddress next) {
    reconnecting(attempt, delay, lastFailure);
  }

  /**
   * The client stopped: it was shut down, or a session could not be made for a reason that
   * another attempt would not fix (e.g. login refused), given as {@code cause}.
   */
  default void stopped(PbException cause) {}
}
