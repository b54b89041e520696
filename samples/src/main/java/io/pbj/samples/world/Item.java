package io.pbj.samples.world;

import java.util.Random;

/**
 * A published item; it moves by the delta {@link RemoteItem#moveTo}. Thread-safety: as {@link
 * WorldObject}.
 */
final class Item extends WorldObject<ItemState> {
  Item(ItemState state, long version) {
    super(state, version);
  }

  /** Someone carries it a few tiles (within {@code worldTiles}). */
  @Override
  void changeRandomly(Random random, int worldTiles, WorldWriter writer) {
    writer.atomically(this, () -> {
      ItemState s = writer.current(this);
      int nx = Math.floorMod(s.x() + 1 + random.nextInt(16), worldTiles);
      int ny = Math.floorMod(s.y() - 8 + random.nextInt(17), worldTiles);
      if (nx == s.x() && ny == s.y()) {
        nx = (nx + 1) % worldTiles;    // a world one tile wide has nowhere else: always move
      }
      writer.delta(this, s.movedTo(nx, ny), "moveTo", nx, ny);
    });
  }

  /** The item moves to world tile ({@code x}, {@code y}), pushed as a delta. */
  synchronized void moveTo(int x, int y) {
    changeByDelta(state().movedTo(x, y), "moveTo", x, y);
  }

  @Override
  boolean changesByDelta() {
    return true;
  }
}
