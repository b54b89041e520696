package io.pbj.samples.world;

import io.pbj.samples.world.ChunkState.Terrain;
import java.util.Random;

/**
 * A published terrain chunk; it changes one tile at a time, by the delta {@link
 * RemoteChunk#setTile}. Thread-safety: as {@link WorldObject}.
 */
final class Chunk extends WorldObject<ChunkState> {
  Chunk(ChunkState state, long version) {
    super(state, version);
  }

  /** Lays a road on a random tile (or ploughs a field where a road is). */
  @Override
  void changeRandomly(Random random, int worldTiles, WorldWriter writer) {
    writer.atomically(this, () -> {
      ChunkState s = writer.current(this);
      int index = random.nextInt(ChunkState.TILES);
      Terrain now = s.terrainAt(index);
      int terrain = (now == Terrain.ROAD ? Terrain.FIELD : Terrain.ROAD).ordinal();
      writer.delta(this, s.withTile(index, terrain), "setTile", index, terrain);
    });
  }

  /** Tile {@code index} becomes {@code terrain}, pushed as a delta. */
  synchronized void setTile(int index, int terrain) {
    changeByDelta(state().withTile(index, terrain), "setTile", index, terrain);
  }

  @Override
  boolean changesByDelta() {
    return true;
  }
}
