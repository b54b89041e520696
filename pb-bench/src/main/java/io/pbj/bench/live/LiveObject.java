package io.pbj.bench.live;

import io.pbj.publish.Publishable;

/**
 * A published object of the live benchmark: an opaque block of bytes whose changes overwrite a
 * few bytes at an offset, pushed either as a delta ({@code patch(offset, bytes)}, run by {@link
 * LivePublished#patch}) or as the whole new state. Versions come from the benchmark, so it knows
 * a change's version before the push leaves.
 *
 * <pre>{@code
 * LiveObject o = new LiveObject("live-000042", 1, bytes);
 * service.publish(o);
 * o.patch(100, new byte[] {1, 2, 3}, 2, true);   // observers run patch(100, [1, 2, 3]) at v2
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is guarded by this object's lock, which {@link
 * Publishable} also holds while it takes the state. A state array is never written after it was
 * handed out (copy on write), so a push encoded later sees the bytes of its own version.
 */
final class LiveObject extends Publishable {
  /** The delta method's remote name. */
  static final String PATCH = "patch";

  private byte[] state;

  LiveObject(String identity, long version, byte[] state) {
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

  /**
   * Writes {@code bytes} at {@code offset} and pushes the change at {@code newVersion}: as a
   * delta if {@code asDelta}, else the whole new state ({@code republish}).
   */
  synchronized void patch(int offset, byte[] bytes, long newVersion, boolean asDelta) {
    byte[] next = state.clone();
    System.arraycopy(bytes, 0, next, offset, bytes.length);
    state = next;
    if (asDelta) {
      republishDelta(newVersion, PATCH, offset, bytes);
    } else {
      republish(newVersion);
    }
  }
}
