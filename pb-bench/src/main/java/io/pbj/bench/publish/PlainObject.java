package io.pbj.bench.publish;

import io.pbj.Cacheable;
import io.pbj.RemoteObserver;

/**
 * The "plain Cacheable" strategy's object: an ordinary pb-core {@link Cacheable} whose state is
 * its bytes, sent in full to every connection that takes it, with no version and no store.
 *
 * <p>Thread-safety: thread-safe; the state is guarded by this object's lock.
 */
final class PlainObject implements Cacheable {
  private byte[] state;

  PlainObject(byte[] state) {
    this.state = state;
  }

  @Override
  public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
    return state;
  }

  @Override
  public void stoppedObserving(Object perspective, RemoteObserver observer) {}

  synchronized byte[] state() {
    return state;
  }

  /**
   * Replaces the state. Observers are not told: the benchmark changes objects only between
   * sessions, when nobody observes them.
   */
  synchronized void change(byte[] newState) {
    state = newState;
  }
}
