package io.pbj.internal;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import io.pbj.PbException.Code;
import io.pbj.PbException;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The handshake and login deadlines of one server connection. From accept, the peer has {@link
 * ServerLimits#handshakeTimeout()} to send its preamble and HELLO; where the root is a {@link
 * LoginGate}, it has {@link ServerLimits#loginTimeout()} to log in, and that much again after
 * each logout: a connection that is not logged in can do nothing but log in, so the time it may
 * spend not logged in is bounded, idle or busy. A connection that misses a deadline is told why
 * in a GOODBYE and closed, with {@link Code#LIMIT_EXCEEDED}.
 *
 * <p>Thread-safety: the timers run on the connection's event loop; a logout (any thread) hands
 * its re-arming to that loop.
 */
final class Deadlines {
  private final Connection connection;
  private final EventLoop loop;
  private final long loginNanos;
  /** Event loop only. */
  private long loginDeadline;
  /** Event loop only. */
  private ScheduledFuture<?> loginTimer;

  private Deadlines(Connection connection, long loginNanos) {
    this.connection = connection;
    this.loop = connection.channel().eventLoop();
    this.loginNanos = loginNanos;
  }

  /** Starts the deadlines of a connection just accepted (on its event loop). */
  static void watch(Connection connection, ServerLimits limits) {
    EventLoop loop = connection.channel().eventLoop();
    Duration handshake = limits.handshakeTimeout();
    if (ServerLimits.on(handshake)) {
      ScheduledFuture<?> timer =
          loop.schedule(
              () -> {
                if (!connection.admittance().handshaken() && connection.isOpen()) {
                  connection.refuse(
                      new PbException(
                          Code.LIMIT_EXCEEDED,
                          "no handshake within " + handshake.toMillis()
                              + " ms (PbServer.Builder.handshakeTimeout)"));
                }
              },
              handshake.toNanos(),
              TimeUnit.NANOSECONDS);
      connection.channel().closeFuture().addListener(f -> timer.cancel(false));
    }
    Duration login = limits.loginTimeout();
    if (ServerLimits.on(login)) {
      Deadlines d = new Deadlines(connection, login.toNanos());
      connection.admittance().onPerspectiveChange(d::perspectiveChanged);
      d.arm();
      connection.channel().closeFuture().addListener(f -> d.cancel());
    }
  }

  /** Login or logout, on any thread. */
  private void perspectiveChanged() {
    if (connection.perspective() != null) {
      return; // logged in: the pending check finds nothing to do
    }
    try {
      loop.execute(this::arm);
    } catch (RejectedExecutionException e) {
      // the server is shutting down: the connection closes with it
    }
  }

  /** Event loop: the connection has {@code loginNanos} from now to log in. */
  private void arm() {
    if (!connection.isOpen()) {
      return;
    }
    loginDeadline = loop.ticker().nanoTime() + loginNanos;
    if (loginTimer == null) {
      loginTimer = loop.schedule(this::check, loginNanos, TimeUnit.NANOSECONDS);
    }
  }

  /** Event loop. */
  private void check() {
    loginTimer = null;
    if (!connection.isOpen() || !connection.admittance().awaitsLogin()) {
      return; // logged in (a logout re-arms), or no login required
    }
    long left = loginDeadline - loop.ticker().nanoTime();
    if (left > 0) {
      loginTimer = loop.schedule(this::check, left, TimeUnit.NANOSECONDS);
      return;
    }
    connection.refuse(
        new PbException(
            Code.LIMIT_EXCEEDED,
            "not logged in within " + TimeUnit.NANOSECONDS.toMillis(loginNanos)
                + " ms (PbServer.Builder.loginTimeout)"));
  }

  private void cancel() {
    ScheduledFuture<?> t = loginTimer;
    if (t != null) {
      t.cancel(false);
    }
  }
}
