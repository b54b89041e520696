package io.pbj.bench.publish;

import io.pbj.publish.Publishable;

/**
 * A published object of the benchmark: its state is an opaque block of bytes, sent as is.
 * Versions are assigned by the service; {@link #change} replaces the state and republishes.
 *
 * <pre>{@code
 * BenchObject o = new BenchObject("object-00042", bytes);
 * service.publish(o);
 * o.change(newBytes);        // new version; observers, if any, get the new state
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is guarded by this object's lock, which {@link
 * Publishable} also holds while it takes the state.
 */
final class BenchObject extends Publishable {
  private byte[] state;

  BenchObject(String identity, byte[] state) {
    super(identity);
    this.state = state;
  }

  @Override
  protected synchronized byte[] publishedState(Object perspective) {
    return state;
  }

  /** The state a client should hold now. */
  synchronized byte[] state() {
    return state;
  }

  /** Replaces the state and republishes it under a new version. */
  synchronized void change(byte[] newState) {
    state = newState;
    republish();
  }
}
