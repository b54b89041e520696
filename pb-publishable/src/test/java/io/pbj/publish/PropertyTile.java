package io.pbj.publish;

import java.nio.charset.StandardCharsets;
import java.util.function.ToLongFunction;

/**
 * A published object of {@link PublishingRun} whose state is bytes ({@code "t:" + terrain}): set
 * whole, or grown by an {@code append} delta ({@link PropertyTileCache#append}). A null {@code
 * contentVersion} takes the service's counter; otherwise it derives the version from the state's
 * text, as an application would from a content hash.
 */
final class PropertyTile extends Publishable implements PropertyObject {
  private String terrain;

  PropertyTile(String id, String terrain, long version) {
    super(id, version);
    this.terrain = terrain;
  }

  PropertyTile(String id, String terrain) {
    super(id);
    this.terrain = terrain;
  }

  @Override
  protected synchronized byte[] publishedState(Object perspective) {
    return text().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public synchronized String text() {
    return "t:" + terrain;
  }

  static String textOf(String terrain) {
    return "t:" + terrain;
  }

  synchronized void set(String newTerrain, ToLongFunction<String> contentVersion) {
    terrain = newTerrain;
    if (contentVersion == null) {
      republish();
    } else {
      republish(contentVersion.applyAsLong(text()));
    }
  }

  synchronized void append(String more, ToLongFunction<String> contentVersion) {
    terrain = terrain + more;
    if (contentVersion == null) {
      republishDelta("append", more);
    } else {
      republishDelta(contentVersion.applyAsLong(text()), "append", more);
    }
  }

  synchronized String terrain() {
    return terrain;
  }
}
