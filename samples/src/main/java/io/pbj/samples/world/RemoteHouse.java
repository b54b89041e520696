package io.pbj.samples.world;

import io.pbj.publish.RemotePublished;

/**
 * The client's copy of a published house: activated from the local store when the stored
 * version is the server's, otherwise from the state the server sent, and replaced by every
 * republish.
 *
 * <pre>{@code
 * RemoteHouse house = attachment.get("h:341", RemoteHouse.class);
 * HouseState state = house.state();
 * boolean local = house.fromStore();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is replaced whole and read through a volatile field.
 */
public final class RemoteHouse extends RemotePublished {
  private volatile HouseState state;

  @Override
  protected void applyPublishedState(byte[] bytes, int formatVersion) {
    state = HouseState.decode(bytes, formatVersion);
  }

  /** The house as last applied; null before activation. */
  public HouseState state() {
    return state;
  }
}
