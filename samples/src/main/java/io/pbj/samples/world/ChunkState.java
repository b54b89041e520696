package io.pbj.samples.world;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * A terrain chunk: {@value #SIZE} x {@value #SIZE} tiles of the world map, each with a terrain
 * type and an elevation, at chunk coordinates ({@link #x()}, {@link #y()}). Identity {@code
 * c:X:Y}; about 2 KiB encoded (one terrain byte and one elevation byte per tile). A registered
 * record: pb-core encodes it, and the delta {@link #withTile} changes one tile.
 *
 * <pre>{@code
 * ChunkState chunk = remoteChunk.value();
 * Terrain t = chunk.terrainAt(3, 17);
 * ChunkState after = chunk.withTile(ChunkState.index(3, 17), Terrain.ROAD.ordinal());
 * }</pre>
 *
 * <p>Thread-safety: immutable; the arrays are copied in and out.
 *
 * @param x chunk column, 0 to 65,535
 * @param y chunk row, 0 to 65,535
 * @param terrain per tile, row by row, the ordinal of its {@link Terrain}
 * @param height per tile, row by row, its elevation (0-255 as an unsigned byte)
 */
public record ChunkState(int x, int y, byte[] terrain, byte[] height) implements WorldState {
  /** Tiles along each side of a chunk. */
  public static final int SIZE = 32;

  /** Tiles in a chunk. */
  public static final int TILES = SIZE * SIZE;
  private static final Terrain[] TERRAINS = Terrain.values();

  /** What a tile is made of; stored as its ordinal, so new kinds go at the end. Immutable. */
  public enum Terrain {
    WATER,
    SAND,
    GRASS,
    FOREST,
    ROCK,
    SNOW,
    ROAD,
    FIELD
  }

  /** Checks every part (a decoded state comes through here too) and copies the arrays. */
  public ChunkState {
    if (x < 0 || x > 0xFFFF || y < 0 || y > 0xFFFF) {
      throw new IllegalArgumentException("chunk coordinates out of range: " + x + "," + y);
    }
    if (terrain == null || height == null || terrain.length != TILES || height.length != TILES) {
      throw new IllegalArgumentException("chunk " + x + "," + y + ": a chunk has " + TILES + " tiles");
    }
    for (byte t : terrain) {
      if (t < 0 || t >= TERRAINS.length) {
        throw new IllegalArgumentException("chunk " + x + "," + y + " has unknown terrain " + t);
      }
    }
    terrain = terrain.clone();
    height = height.clone();
  }

  /** A chunk from per-tile terrain ordinals and elevations, row by row; both arrays are copied. */
  static ChunkState of(int x, int y, byte[] terrain, byte[] height) {
    return new ChunkState(x, y, terrain, height);
  }

  /** The identity of the chunk at ({@code x}, {@code y}). */
  static String identity(int x, int y) {
    return "c:" + x + ":" + y;
  }

  @Override
  public String identity() {
    return identity(x, y);
  }

  /** A copy of the terrain ordinals, row by row. */
  @Override
  public byte[] terrain() {
    return terrain.clone();
  }

  /** A copy of the elevations, row by row. */
  @Override
  public byte[] height() {
    return height.clone();
  }

  /** The index of tile ({@code tx}, {@code ty}) in {@link #terrain()}, each 0 to SIZE - 1. */
  public static int index(int tx, int ty) {
    if (tx < 0 || tx >= SIZE || ty < 0 || ty >= SIZE) {
      throw new IndexOutOfBoundsException("tile " + tx + "," + ty + " is outside a chunk");
    }
    return ty * SIZE + tx;
  }

  /** The terrain of tile ({@code tx}, {@code ty}), each 0 to {@value #SIZE} - 1. */
  public Terrain terrainAt(int tx, int ty) {
    return TERRAINS[terrain[index(tx, ty)]];
  }

  /** The terrain of the tile at {@code index} ({@link #index}). */
  public Terrain terrainAt(int index) {
    checkIndex(index);
    return TERRAINS[terrain[index]];
  }

  /** The elevation of tile ({@code tx}, {@code ty}), 0 to 255. */
  public int heightAt(int tx, int ty) {
    return height[index(tx, ty)] & 0xFF;
  }

  /** How many tiles of each terrain the chunk has. */
  public Map<Terrain, Integer> terrainCounts() {
    Map<Terrain, Integer> counts = new EnumMap<>(Terrain.class);
    for (byte t : terrain) {
      counts.merge(TERRAINS[t], 1, Integer::sum);
    }
    return counts;
  }

  /**
   * The delta a chunk changes by: the chunk with tile {@code index} made of terrain {@code
   * terrain} (an ordinal of {@link Terrain}).
   *
   * @throws IllegalArgumentException if the index or the terrain is out of range
   */
  public ChunkState withTile(int index, int terrain) {
    checkIndex(index);
    if (terrain < 0 || terrain >= TERRAINS.length) {
      throw new IllegalArgumentException("chunk " + identity() + ": unknown terrain " + terrain);
    }
    byte[] t = this.terrain.clone();
    t[index] = (byte) terrain;
    return new ChunkState(x, y, t, height);
  }

  private void checkIndex(int index) {
    if (index < 0 || index >= TILES) {
      throw new IllegalArgumentException(
          "chunk " + identity() + ": tile index " + index + " is outside 0.." + (TILES - 1));
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChunkState c
        && x == c.x && y == c.y
        && Arrays.equals(terrain, c.terrain)
        && Arrays.equals(height, c.height);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * x + y) + Arrays.hashCode(terrain);
  }

  @Override
  public String toString() {
    return "ChunkState[" + identity() + "]";
  }
}
