package io.pbj.internal;

/**
 * How far a connection's peer is let in: whether its HELLO was accepted, whether its root is a
 * {@link LoginGate}, and who it is logged in as (its perspective, which views receive). The
 * server's deadlines and its smaller message limit before login read it.
 *
 * <p>Thread-safety: thread-safe; each field is written by one party (the event loop, the root
 * factory, the login) and read anywhere.
 */
final class Admittance {
  private static final int ROOT_UNKNOWN = 0;
  private static final int ROOT_OPEN = 1;
  private static final int ROOT_LOGIN = 2;

  /** Set on the event loop when the peer's HELLO has been accepted. */
  private volatile boolean handshaken;
  /** What the root factory made: unknown until it has run. */
  private volatile int rootKind = ROOT_UNKNOWN;
  private volatile Object perspective;
  /** Told when the perspective changes (login, logout); null when nobody listens. */
  private volatile Runnable perspectiveListener;

  void handshakeDone() {
    handshaken = true;
  }

  boolean handshaken() {
    return handshaken;
  }

  void rootCreated(Object root) {
    rootKind = root instanceof LoginGate ? ROOT_LOGIN : ROOT_OPEN;
  }

  Object perspective() {
    return perspective;
  }

  void setPerspective(Object perspective) {
    this.perspective = perspective;
    Runnable listener = perspectiveListener;
    if (listener != null) {
      listener.run();
    }
  }

  /** {@code listener} runs (on the thread that logs in or out) whenever the perspective changes. */
  void onPerspectiveChange(Runnable listener) {
    perspectiveListener = listener;
  }

  /**
   * Whether the peer is fully let in: its handshake is done and, where the root is a {@link
   * LoginGate}, it is logged in. A root the factory has not made yet counts as open: the factory
   * runs on the executor as the channel opens and is normally done long before the peer's HELLO
   * has arrived; refusing a client's first large message because a busy executor had not run it
   * yet would be worse than letting a portal's connection have the full message limit for that
   * moment (the server's inbound budget still bounds it).
   */
  boolean admitted() {
    return handshaken && (rootKind != ROOT_LOGIN || perspective != null);
  }

  /** Whether the root is a {@link LoginGate} and nobody is logged in. */
  boolean awaitsLogin() {
    return rootKind == ROOT_LOGIN && perspective == null;
  }
}
