package io.pbj.samples.world;

import io.pbj.publish.RemoteValue;

/**
 * The client's copy of a published house: its {@link HouseState} value, activated from the local
 * store when the stored version is the server's, otherwise from the state the server sent, and
 * replaced whole by every republish (a house has no deltas).
 *
 * <pre>{@code
 * RemoteHouse house = attachment.get("h:341", RemoteHouse.class);
 * int pieces = house.value().furnitureCount();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the value is replaced whole (see {@link RemoteValue}).
 */
public final class RemoteHouse extends RemoteValue<HouseState> {
  private final UpdateCounts counts = new UpdateCounts();

  @Override
  protected void applied(HouseState old, HouseState now) {
    counts.applied(old);
  }

  /** The house as last applied; null before activation. */
  public HouseState state() {
    return value();
  }

  UpdateCounts counts() {
    return counts;
  }
}
