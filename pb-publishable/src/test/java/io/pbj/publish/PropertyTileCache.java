package io.pbj.publish;

import java.nio.charset.StandardCharsets;

/**
 * The client side of {@link PropertyTile}: bytes decoded by hand, {@code append} deltas, and its
 * state encoded again for the store after a delta. Tells {@link ShownStates} of every state shown.
 */
public final class PropertyTileCache extends RemotePublished implements PropertyObject {
  private volatile String terrain;

  public PropertyTileCache() {
    ShownStates.created(this);
  }

  @Override
  protected void applyPublishedState(byte[] state, int formatVersion) {
    String s = new String(state, StandardCharsets.UTF_8);
    if (!s.startsWith("t:") || formatVersion != 1) {
      throw new IllegalArgumentException("not a tile state: " + s + " (format " + formatVersion
          + ")");
    }
    terrain = s.substring(2);
  }

  /** The delta {@link PropertyTile#append} sends. */
  @io.pbj.Remote
  public void append(String more) {
    terrain = terrain + more;
  }

  @Override
  protected byte[] encodedState() {
    return text().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String text() {
    return "t:" + terrain;
  }
}
