package io.pbj.bench.publish;

import io.pbj.publish.RemotePublished;

/**
 * The client side of a {@link BenchObject} for the two PBJ strategies: keeps the state bytes as
 * they came from the store or the server.
 *
 * <p>Thread-safety: the state is applied on the client's executor and read by the benchmark
 * thread after activation, through a volatile field.
 */
public final class BenchPublished extends RemotePublished {
  private volatile byte[] state;

  /** Created by the broker when a {@link BenchObject} arrives. */
  public BenchPublished() {}

  @Override
  protected void applyPublishedState(byte[] newState, int formatVersion) {
    state = newState;
  }

  byte[] state() {
    return state;
  }
}
