package io.pbj.samples.world;

import java.util.Random;

/** A published item. Thread-safety: as {@link WorldObject}. */
final class Item extends WorldObject<ItemState> {
  Item(ItemState state, long version) {
    super(state, version);
  }

  @Override
  void changeRandomly(Random random, int worldTiles) {
    synchronized (this) {
      change(state().changed(random, worldTiles));
    }
  }
}
