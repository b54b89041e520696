package io.pbj.bench.cluster;

import io.pbj.publish.RemotePublished;

/**
 * The client side of a {@link BenchObject}: keeps the state bytes and gives them back to the
 * store.
 *
 * <p>Thread-safety: states are applied on the client's executor; other threads read the state
 * through a volatile field.
 */
public final class BenchPublished extends RemotePublished {
  private volatile byte[] state;

  /** Created by the broker when a {@link BenchObject} arrives. */
  public BenchPublished() {}

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
