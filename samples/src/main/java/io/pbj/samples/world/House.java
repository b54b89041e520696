package io.pbj.samples.world;

import java.util.Random;

/**
 * A published house; it changes whole (republished with its new state). Thread-safety: as
 * {@link WorldObject}.
 */
final class House extends WorldObject<HouseState> {
  House(HouseState state, long version) {
    super(state, version);
  }

  @Override
  void changeRandomly(Random random, int worldTiles, WorldWriter writer) {
    writer.atomically(this, () ->
        writer.whole(this, writer.current(this).changed(random, WorldGenerator.OWNERS)));
  }

  @Override
  boolean changesByDelta() {
    return false;
  }
}
