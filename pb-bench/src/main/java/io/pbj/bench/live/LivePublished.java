package io.pbj.bench.live;

import io.pbj.Remote;
import io.pbj.publish.RemotePublished;

/**
 * The client side of a {@link LiveObject}: keeps the state bytes, applies {@code patch} deltas
 * and hands the patched bytes to the store ({@link #encodedState()}), so a delta costs the client
 * one copy of the state and the store stays current.
 *
 * <p>Thread-safety: states and deltas are applied on the client's executor under the object's
 * lock; the state is read by other threads through a volatile field. A state array is never
 * written after it was set (copy on write), so the array the store holds keeps its version's
 * bytes.
 */
public final class LivePublished extends RemotePublished {
  private volatile byte[] state;

  /** Created by the broker when a {@link LiveObject} arrives. */
  public LivePublished() {}

  @Override
  protected void applyPublishedState(byte[] newState, int formatVersion) {
    state = newState;
  }

  /** The delta {@link LiveObject#patch} sends: {@code bytes} written at {@code offset}. */
  @Remote
  public void patch(int offset, byte[] bytes) {
    byte[] next = state.clone();
    System.arraycopy(bytes, 0, next, offset, bytes.length);
    state = next;
  }

  @Override
  protected byte[] encodedState() {
    return state;
  }

  byte[] state() {
    return state;
  }
}
