package io.pbj.bench.scale;

import io.pbj.publish.RemotePublished;

/**
 * The client side of a {@link ScaleObject}: keeps the state bytes, and gives them back to the
 * store and to a relay ({@link #encodedState()}).
 *
 * <p>Thread-safety: states are applied on the client's executor; other threads read the state
 * through a volatile field.
 */
public final class ScalePublished extends RemotePublished {
  private volatile byte[] state;

  /** Created by the broker when a {@link ScaleObject} arrives. */
  public ScalePublished() {}

  @Override
  protected void applyPublishedState(byte[] newState, int formatVersion) {
    state = newState;
  }

  @Override
  protected byte[] encodedState() {
    return state;
  }

  byte[] state() {
    return state;
  }
}
