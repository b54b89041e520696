package io.pbj.samples.world;

import io.pbj.samples.world.ChunkState.Terrain;
import io.pbj.samples.world.HouseState.Furniture;
import io.pbj.samples.world.HouseState.Room;
import io.pbj.samples.world.ItemState.Enchantment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Makes a world of a given number of objects from a seed: a square map of terrain chunks (a
 * quarter of the objects), houses standing on it (35%, about 1.1 KiB each) and items lying about (the rest, a few hundred bytes each). The
 * same seed and size always give the same world, every object at version 1.
 *
 * <p>Thread-safety: not thread-safe; one generator makes one world.
 */
final class WorldGenerator {
  static final List<String> OWNERS = List.of(
      "Ada", "Bram", "Cora", "Dunstan", "Edda", "Finn", "Greta", "Hal", "Ilse", "Jory", "Kasia",
      "Lorne", "Mira", "Nils", "Oona", "Piet", "Quill", "Runa", "Sven", "Tamsin", "Ulla", "Vik",
      "Wren", "Yara", "Zeno", "Alder", "Brisk", "Cwen", "Dagny", "Eamon");
  private static final List<String> HOUSE_ADJECTIVES = List.of(
      "Old", "Quiet", "Crooked", "Red", "Stone", "High", "Low", "Willow", "Broad", "Mossy",
      "Sunny", "North", "South", "Little", "Long");
  private static final List<String> HOUSE_NOUNS = List.of(
      "Mill", "Cottage", "Farmstead", "Manor", "Lodge", "Tavern", "Forge", "Hall", "Barn",
      "Bakery", "Chapel", "Tower", "Inn", "Granary", "Smithy");
  private static final List<String> ROOMS = List.of(
      "kitchen", "hall", "bedroom", "pantry", "cellar", "study", "attic", "workshop", "nursery",
      "parlour", "larder", "scullery", "library", "storeroom");
  private static final List<String> ITEM_KINDS = List.of(
      "sword", "shield", "axe", "bow", "arrow", "potion", "apple", "coin", "helmet", "ring",
      "lantern", "rope", "map", "key", "hammer", "scroll");
  private static final List<String> MATERIALS = List.of(
      "iron", "bronze", "oak", "silver", "steel", "bone", "glass", "copper", "ash", "gold");
  private static final List<String> ITEM_ADJECTIVES = List.of(
      "rusty", "fine", "plain", "ancient", "chipped", "polished", "heavy", "light", "crude",
      "gleaming");
  private static final List<String> ENCHANTMENTS = List.of(
      "sharpness", "warding", "swiftness", "light", "mending", "frost", "embers", "luck");
  private static final List<String> LORE = List.of(
      "It was found in a ditch after the spring floods.",
      "The maker's mark is worn but still legible.",
      "Locals say it once belonged to a travelling knight.",
      "A faint smell of smoke clings to it.",
      "Someone has scratched initials into the underside.",
      "It hums quietly when held near running water.",
      "Merchants in the south would pay well for it.",
      "The craftsmanship suggests the old northern workshops.",
      "It is lighter than it looks.",
      "A small chip near the edge tells of hard use.",
      "Children in the village dare each other to touch it.",
      "It was traded for a sack of grain one hard winter.");
  private static final Terrain[] BY_HEIGHT = {
      Terrain.WATER, Terrain.WATER, Terrain.SAND, Terrain.GRASS, Terrain.GRASS, Terrain.GRASS,
      Terrain.FOREST, Terrain.FOREST, Terrain.ROCK, Terrain.SNOW};

  private final Random random;
  private final long seed;

  WorldGenerator(long seed) {
    this.seed = seed;
    this.random = new Random(seed);
  }

  /** Chunks along each side of the map for a world of {@code objects}. */
  static int side(int objects) {
    return Math.max(1, (int) Math.sqrt(objects / 4.0));
  }

  /** Houses in a world of {@code objects}. */
  static int houses(int objects) {
    int chunks = side(objects) * side(objects);
    return Math.min(objects - chunks, (int) Math.round(objects * 0.35));
  }

  /** The objects of a world of {@code objects}: chunks, houses, then items. */
  List<WorldObject<?>> generate(int objects) {
    if (objects < WorldModel.MIN_OBJECTS) {
      throw new IllegalArgumentException("a world needs at least " + WorldModel.MIN_OBJECTS + " objects");
    }
    int side = side(objects);
    int houses = houses(objects);
    int items = objects - side * side - houses;
    List<WorldObject<?>> world = new ArrayList<>(objects);
    for (int cy = 0; cy < side; cy++) {
      for (int cx = 0; cx < side; cx++) {
        world.add(new Chunk(chunk(cx, cy), 1));
      }
    }
    for (int id = 0; id < houses; id++) {
      world.add(new House(house(id, side), 1));
    }
    for (int id = 0; id < items; id++) {
      world.add(new Item(item(id, side * ChunkState.SIZE), 1));
    }
    return world;
  }

  private ChunkState chunk(int cx, int cy) {
    int n = ChunkState.SIZE;
    byte[] terrain = new byte[n * n];
    byte[] height = new byte[n * n];
    for (int ty = 0; ty < n; ty++) {
      for (int tx = 0; tx < n; tx++) {
        int wx = cx * n + tx;
        int wy = cy * n + ty;
        double h = 0.55 * noise(wx, wy, 64, 1) + 0.3 * noise(wx, wy, 16, 2)
            + 0.15 * noise(wx, wy, 4, 3);
        Terrain t = BY_HEIGHT[Math.min(BY_HEIGHT.length - 1, (int) (h * BY_HEIGHT.length))];
        if (t == Terrain.GRASS && lattice(wx / 8, wy / 8, 4) < 0.15) {
          t = Terrain.FIELD;
        }
        terrain[ty * n + tx] = (byte) t.ordinal();
        height[ty * n + tx] = (byte) Math.min(255, (int) (h * 256));
      }
    }
    return ChunkState.of(cx, cy, terrain, height);
  }

  /** Smooth value noise in [0, 1) with lattice spacing {@code scale}. */
  private double noise(int x, int y, int scale, int octave) {
    int ix = Math.floorDiv(x, scale);
    int iy = Math.floorDiv(y, scale);
    double fx = smooth((x - ix * scale) / (double) scale);
    double fy = smooth((y - iy * scale) / (double) scale);
    double a = lattice(ix, iy, octave);
    double b = lattice(ix + 1, iy, octave);
    double c = lattice(ix, iy + 1, octave);
    double d = lattice(ix + 1, iy + 1, octave);
    return (a + (b - a) * fx) * (1 - fy) + (c + (d - c) * fx) * fy;
  }

  private static double smooth(double t) {
    return t * t * (3 - 2 * t);
  }

  /** A pseudo-random value in [0, 1) for a lattice point, from the seed. */
  private double lattice(int x, int y, int octave) {
    long h = seed * 0x9E3779B97F4A7C15L + x * 0x632BE59BD9B4E019L + y * 0x85157AF5L + octave;
    h ^= h >>> 33;
    h *= 0xFF51AFD7ED558CCDL;
    h ^= h >>> 33;
    h *= 0xC4CEB9FE1A85EC53L;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }

  /** A house numbered {@code id} on a map of {@code side} x {@code side} chunks. */
  HouseState house(int id, int side) {
    int roomCount = 9 + random.nextInt(5);
    List<Room> rooms = new ArrayList<>(roomCount);
    for (int r = 0; r < roomCount; r++) {
      int width = 3 + random.nextInt(8);
      int depth = 3 + random.nextInt(8);
      int pieces = 12 + random.nextInt(13);
      List<Furniture> furniture = new ArrayList<>(pieces);
      for (int f = 0; f < pieces; f++) {
        furniture.add(new Furniture(random.nextInt(HouseState.FURNITURE.size()),
            random.nextInt(width), random.nextInt(depth), random.nextInt(4),
            40 + random.nextInt(61)));
      }
      rooms.add(new Room(pick(ROOMS), width, depth, furniture));
    }
    return new HouseState(id, random.nextInt(side), random.nextInt(side),
        random.nextInt(ChunkState.SIZE), random.nextInt(ChunkState.SIZE), pick(OWNERS),
        pick(HOUSE_ADJECTIVES) + " " + pick(HOUSE_NOUNS), 1 + random.nextInt(3), rooms);
  }

  /** An item numbered {@code id} lying within {@code worldTiles} x {@code worldTiles} tiles. */
  ItemState item(int id, int worldTiles) {
    String kind = pick(ITEM_KINDS);
    String name = pick(ITEM_ADJECTIVES) + " " + pick(MATERIALS) + " " + kind;
    boolean stacks = kind.equals("coin") || kind.equals("arrow") || kind.equals("apple");
    StringBuilder lore = new StringBuilder();
    int want = 180 + random.nextInt(76);
    while (lore.length() < want) {
      String sentence = pick(LORE);
      if (lore.length() + 1 + sentence.length() > 255) {
        break;
      }
      lore.append(lore.length() == 0 ? "" : " ").append(sentence);
    }
    int enchantmentCount = random.nextInt(4);
    List<Enchantment> enchantments = new ArrayList<>(enchantmentCount);
    for (int e = 0; e < enchantmentCount; e++) {
      enchantments.add(new Enchantment(pick(ENCHANTMENTS), 1 + random.nextInt(5)));
    }
    return new ItemState(id, kind, name, random.nextInt(worldTiles), random.nextInt(worldTiles),
        stacks ? 1 + random.nextInt(500) : 1, random.nextInt(101),
        random.nextInt(10) < 3 ? pick(OWNERS) : "", lore.toString(), enchantments);
  }

  private String pick(List<String> from) {
    return from.get(random.nextInt(from.size()));
  }
}
