package io.pbj.samples.world;

import java.util.Random;

/** A published terrain chunk. Thread-safety: as {@link WorldObject}. */
final class Chunk extends WorldObject<ChunkState> {
  Chunk(ChunkState state, long version) {
    super(state, version);
  }

  @Override
  void changeRandomly(Random random, int worldTiles) {
    synchronized (this) {
      change(state().changed(random));
    }
  }
}
