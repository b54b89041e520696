package io.pbj.bench.scale;

import io.pbj.publish.Publishable;

/**
 * A published object of the scale benchmark: an opaque block of bytes that a tick replaces as a
 * whole, at a version the benchmark chooses (so a client's update tells which tick it belongs to).
 *
 * <pre>{@code
 * ScaleObject o = new ScaleObject("scale-0042", 1, bytes);
 * service.publish(o);
 * o.change(newBytes, 2);   // every observer receives the new state at version 2
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is guarded by this object's lock, which {@link
 * Publishable} also holds while it takes the state. A state array is never written after it was
 * handed out.
 */
final class ScaleObject extends Publishable {
  private byte[] state;

  ScaleObject(String identity, long version, byte[] state) {
    super(identity, version);
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

  /** Replaces the state and pushes it to every observer at {@code newVersion}. */
  synchronized void change(byte[] newState, long newVersion) {
    state = newState;
    republish(newVersion);
  }
}
