package io.pbj.bench.publish;

import io.pbj.RemoteCache;

/**
 * The client side of a {@link PlainObject}: the state bytes pb-core delivered.
 *
 * <p>Thread-safety: the state is set on the client's executor before the answer carrying the
 * object is delivered, and read by the benchmark thread afterwards, through a volatile field.
 */
public final class PlainCache extends RemoteCache {
  private volatile byte[] state;

  /** Created by the broker when a {@link PlainObject} arrives. */
  public PlainCache() {}

  @Override
  protected void setState(Object newState) {
    state = (byte[]) newState;
  }

  byte[] state() {
    return state;
  }
}
