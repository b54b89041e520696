package io.pbj.publish;

import io.pbj.Remote;

/** The client side of {@link Counter}: a {@link RemoteValue} of its record. */
public final class RemoteCounter extends RemoteValue<Counter.State> {
  /** The delta {@link Counter#add} sends. */
  @Remote
  public void add(int n) {
    update(new Counter.State(value().name(), value().count() + n));
  }
}
