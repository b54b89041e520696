package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import io.pbj.publish.internal.WireState;
import java.util.Objects;

/**
 * An upstream object re-published by a {@link Relay}: the origin's identity, version, format and
 * state bytes, passed through untouched, sent as the registered class the origin sent.
 *
 * <p>Thread-safety: thread-safe; {@link #refresh} and the states taken for clients synchronize
 * on this object (as {@link Publishable} does).
 */
final class RelayedPublishable extends Publishable {
  private final Class<? extends Cacheable> sentAs;
  @GuardedBy("this")
  private WireState state;

  RelayedPublishable(WireState state, Class<? extends Cacheable> sentAs) {
    super(state.identity(), state.version());
    this.state = state;
    this.sentAs = Objects.requireNonNull(sentAs, "sentAs");
  }

  @Override
  protected synchronized Object publishedState(Object perspective) {
    return state.state();
  }

  @Override
  protected synchronized int formatVersion() {
    return state.format();
  }

  @Override
  public Class<? extends Cacheable> sentAs() {
    return sentAs;
  }

  /** Takes the upstream object's current state; pushes it downstream if its version is new. */
  synchronized void refresh(WireState upstream) {
    if (upstream == null || upstream.version() == version()) {
      return;
    }
    state = upstream;
    republish(upstream.version());
  }
}
