package io.pbj.samples.world;

import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;

/**
 * A terrain chunk: {@value #SIZE} x {@value #SIZE} tiles of the world map, each with a terrain
 * type and an elevation, at chunk coordinates ({@link #x()}, {@link #y()}). Identity {@code
 * c:X:Y}; encoded as a tag, the coordinates, then one terrain byte and one elevation byte per
 * tile (2,053 bytes).
 *
 * <pre>{@code
 * ChunkState chunk = remoteChunk.state();
 * Terrain t = chunk.terrainAt(3, 17);
 * int height = chunk.heightAt(3, 17);
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class ChunkState implements WorldState {
  /** Tiles along each side of a chunk. */
  public static final int SIZE = 32;

  private static final int TILES = SIZE * SIZE;
  private static final int ENCODED_SIZE = 1 + 2 + 2 + 2 * TILES;
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

  private final int x;
  private final int y;
  private final byte[] terrain;
  private final byte[] height;

  private ChunkState(int x, int y, byte[] terrain, byte[] height) {
    if (x < 0 || x > 0xFFFF || y < 0 || y > 0xFFFF) {
      throw new IllegalArgumentException("chunk coordinates out of range: " + x + "," + y);
    }
    this.x = x;
    this.y = y;
    this.terrain = terrain;
    this.height = height;
  }

  /**
   * A chunk from per-tile terrain ordinals and elevations (0-255), row by row; both arrays are
   * copied.
   */
  static ChunkState of(int x, int y, byte[] terrain, byte[] height) {
    if (terrain.length != TILES || height.length != TILES) {
      throw new IllegalArgumentException("a chunk has " + TILES + " tiles");
    }
    for (byte t : terrain) {
      if (t < 0 || t >= TERRAINS.length) {
        throw new IllegalArgumentException("unknown terrain " + t);
      }
    }
    return new ChunkState(x, y, terrain.clone(), height.clone());
  }

  /** The identity of the chunk at ({@code x}, {@code y}). */
  static String identity(int x, int y) {
    return "c:" + x + ":" + y;
  }

  /** Decodes {@link #encode()}'s bytes; throws IllegalArgumentException for anything else. */
  public static ChunkState decode(byte[] state, int format) {
    StateCodec.checkFormat(format, "chunk");
    if (state.length != ENCODED_SIZE) {
      throw new IllegalArgumentException(
          "chunk state of " + state.length + " bytes, expected " + ENCODED_SIZE);
    }
    StateCodec.Reader in = new StateCodec.Reader(state, "chunk");
    in.tag('C');
    int x = in.u16();
    int y = in.u16();
    byte[] terrain = in.bytes(TILES);
    byte[] height = in.bytes(TILES);
    in.end();
    for (byte t : terrain) {
      if (t < 0 || t >= TERRAINS.length) {
        throw new IllegalArgumentException("chunk state has unknown terrain " + t);
      }
    }
    return new ChunkState(x, y, terrain, height);
  }

  @Override
  public byte[] encode() {
    return new StateCodec.Writer(ENCODED_SIZE)
        .u8('C').u16(x).u16(y).bytes(terrain).bytes(height).toByteArray();
  }

  @Override
  public String identity() {
    return identity(x, y);
  }

  /** Chunk column. */
  public int x() {
    return x;
  }

  /** Chunk row. */
  public int y() {
    return y;
  }

  /** The terrain of tile ({@code tx}, {@code ty}), each 0 to {@value #SIZE} - 1. */
  public Terrain terrainAt(int tx, int ty) {
    return TERRAINS[terrain[index(tx, ty)]];
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
   * The chunk after a change on the server: a short road is laid (or, where one is already, a
   * field is ploughed) across a few tiles. Always differs from this chunk.
   */
  ChunkState changed(Random random) {
    byte[] t = terrain.clone();
    int tx = random.nextInt(SIZE);
    int ty = random.nextInt(SIZE);
    int length = 8 + random.nextInt(17);
    boolean horizontal = random.nextBoolean();
    for (int i = 0; i < length; i++) {
      int cx = horizontal ? (tx + i) % SIZE : tx;
      int cy = horizontal ? ty : (ty + i) % SIZE;
      int at = index(cx, cy);
      t[at] = (byte) (t[at] == Terrain.ROAD.ordinal() ? Terrain.FIELD.ordinal() : Terrain.ROAD.ordinal());
    }
    return new ChunkState(x, y, t, height);
  }

  private static int index(int tx, int ty) {
    if (tx < 0 || tx >= SIZE || ty < 0 || ty >= SIZE) {
      throw new IndexOutOfBoundsException("tile " + tx + "," + ty + " is outside a chunk");
    }
    return ty * SIZE + tx;
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
