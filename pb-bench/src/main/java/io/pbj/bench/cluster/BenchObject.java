package io.pbj.bench.cluster;

import io.pbj.cluster.ClusterPublishing;
import io.pbj.publish.Publishable;

/**
 * A published object of the cluster benchmark: an opaque block of bytes replaced whole, by the
 * driver on a plain origin ({@link #change}) or by the cluster on every member ({@link
 * #takeClusterState}).
 *
 * <p>Thread-safety: thread-safe; the state is guarded by this object's lock, which {@link
 * Publishable} and the cluster hold while they take it. A state array is never written after it
 * was handed out.
 */
final class BenchObject extends Publishable implements ClusterPublishing.ClusterObject {
  private byte[] state;

  BenchObject(String identity, long version, byte[] state) {
    super(identity, version);
    this.state = state;
  }

  @Override
  protected synchronized byte[] publishedState(Object perspective) {
    return state;
  }

  synchronized byte[] state() {
    return state;
  }

  /** Replaces the state and pushes it at the next version (a plain origin). */
  synchronized void change(byte[] newState) {
    state = newState;
    republish(version() + 1);
  }

  @Override
  public synchronized void takeClusterState(Object newState) {
    if (!(newState instanceof byte[] bytes)) {
      throw new IllegalArgumentException(identity() + " holds bytes, not "
          + (newState == null ? "null" : newState.getClass().getName()));
    }
    state = bytes;
  }
}
