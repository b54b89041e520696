package io.pbj.publish;

import io.pbj.Remote;

/** The client side of {@link PropertyCounter}: a {@link RemoteValue} of its record. */
public final class RemotePropertyCounter extends RemoteValue<PropertyCounter.State>
    implements PropertyObject {
  public RemotePropertyCounter() {
    ShownStates.created(this);
  }

  /** The delta {@link PropertyCounter#add} sends. */
  @Remote
  public void add(int n) {
    update(new PropertyCounter.State(value().name(), value().count() + n));
  }

  @Override
  public String text() {
    PropertyCounter.State v = value();
    return v == null ? null : PropertyCounter.textOf(v);
  }
}
