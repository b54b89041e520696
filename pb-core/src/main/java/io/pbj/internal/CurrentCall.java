package io.pbj.internal;

import io.pbj.PbConnection;

/**
 * The incoming remote call running on this thread, behind {@link io.pbj.CallContext}: set around
 * the invocation of a {@code @Remote} method (a peer's call, or a pushed update of a {@link
 * io.pbj.RemoteCache}), and restored to what was there before when it returns, so a call that
 * runs another one on the same thread (a direct executor) finds its own again afterwards.
 *
 * <p>Thread-safety: thread-confined; each thread sees only the calls it runs.
 */
public final class CurrentCall {
  private CurrentCall() {}

  /** What one call runs with: its connection, the perspective it was made under, its method. */
  public record Frame(PbConnection connection, Object perspective, String method) {}

  private static final ThreadLocal<Frame> CURRENT = new ThreadLocal<>();

  /** The call running on this thread, or null. */
  public static Frame get() {
    return CURRENT.get();
  }

  /** Makes {@code frame} current; returns the frame it replaces, for {@link #restore}. */
  static Frame enter(Frame frame) {
    Frame previous = CURRENT.get();
    CURRENT.set(frame);
    return previous;
  }

  /** Puts back what {@link #enter} replaced. */
  static void restore(Frame previous) {
    if (previous == null) {
      CURRENT.remove();
    } else {
      CURRENT.set(previous);
    }
  }
}
