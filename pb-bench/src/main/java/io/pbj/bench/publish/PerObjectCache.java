package io.pbj.bench.publish;

import io.pbj.RemoteCache;
import io.pbj.publish.internal.WireState;

/**
 * The per-object fetch baseline's client side of a {@link BenchObject}, registered on the
 * baseline's client in place of {@link BenchPublished}: it only keeps the {@link WireState} the
 * attach answer carried (identity and version; in versions mode no state), and the state the
 * baseline later takes from the store or from its own fetch call.
 *
 * <p>Thread-safety: fields are set on the client's executor and read by the benchmark thread
 * after the session, through volatile fields.
 */
public final class PerObjectCache extends RemoteCache {
  private volatile WireState announced;
  private volatile byte[] state;

  /** Created by the broker when a {@link BenchObject} arrives. */
  public PerObjectCache() {}

  @Override
  protected void setState(Object newState) {
    announced = (WireState) newState;
  }

  /** What the attach answer said: identity, version, format. */
  WireState announced() {
    return announced;
  }

  void apply(byte[] newState) {
    state = newState;
  }

  byte[] state() {
    return state;
  }
}
