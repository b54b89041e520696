package io.pbj.samples.world;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * A house on the map: where it stands, who owns it, and its rooms with their furniture. Identity
 * {@code h:N}; a registered record (with {@link Room} and {@link Furniture}), about 1 KiB as
 * pb-core encodes it. A house changes whole: the server republishes its new state.
 *
 * <pre>{@code
 * HouseState house = remoteHouse.value();
 * int pieces = house.rooms().stream().mapToInt(r -> r.furniture().size()).sum();
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param id the house number
 * @param chunkX column of the chunk it stands on
 * @param chunkY row of the chunk it stands on
 * @param tileX tile column within the chunk
 * @param tileY tile row within the chunk
 * @param owner who owns it
 * @param name what it is called
 * @param floors number of floors, 1 to 255
 * @param rooms its rooms, at most 255
 */
public record HouseState(
    int id,
    int chunkX,
    int chunkY,
    int tileX,
    int tileY,
    String owner,
    String name,
    int floors,
    List<Room> rooms) implements WorldState {

  /** Names of the kinds of furniture, by {@link Furniture#kind()}. */
  public static final List<String> FURNITURE = List.of(
      "bed", "table", "chair", "chest", "wardrobe", "stove", "bench", "shelf", "lamp", "rug",
      "barrel", "desk", "bookcase", "mirror", "cradle", "loom", "anvil", "bath", "fireplace",
      "painting", "plant", "clock", "stool", "cupboard");

  /** Checks every part (a decoded state comes through here too). */
  public HouseState {
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(name, "name");
    rooms = List.copyOf(rooms);
    if (rooms.size() > 255 || floors < 1 || floors > 255) {
      throw new IllegalArgumentException("house " + id + ": floors or rooms out of range");
    }
  }

  /**
   * One room. Immutable.
   *
   * @param name what the room is
   * @param width width in tiles, 1 to 255
   * @param depth depth in tiles, 1 to 255
   * @param furniture what stands in it, at most 255 pieces
   */
  public record Room(String name, int width, int depth, List<Furniture> furniture) {
    /** Checks every part. */
    public Room {
      Objects.requireNonNull(name, "name");
      furniture = List.copyOf(furniture);
      if (furniture.size() > 255) {
        throw new IllegalArgumentException("room " + name + " has more than 255 pieces");
      }
    }
  }

  /**
   * One piece of furniture, each field a byte. Immutable.
   *
   * @param kind index into {@link #FURNITURE}
   * @param x column within the room
   * @param y row within the room
   * @param rotation quarter turns, 0 to 3
   * @param condition 0 (broken) to 100 (new)
   */
  public record Furniture(int kind, int x, int y, int rotation, int condition) {
    /** Checks every part. */
    public Furniture {
      if (kind < 0 || kind >= FURNITURE.size() || rotation < 0 || rotation > 3
          || condition < 0 || condition > 100 || x < 0 || x > 255 || y < 0 || y > 255) {
        throw new IllegalArgumentException("bad furniture " + kind + "/" + rotation + "/" + condition);
      }
    }

    /** The name of its kind. */
    public String kindName() {
      return FURNITURE.get(kind);
    }
  }

  /** The identity of house {@code id}. */
  static String identity(int id) {
    return "h:" + id;
  }

  @Override
  public String identity() {
    return identity(id);
  }

  /** Pieces of furniture in all rooms. */
  public int furnitureCount() {
    return rooms.stream().mapToInt(r -> r.furniture().size()).sum();
  }

  /**
   * The house after a change on the server: one room is rearranged (every piece in it moves or
   * turns and wears a little), and now and then the house changes hands. Always differs from
   * this house.
   */
  HouseState changed(Random random, List<String> owners) {
    List<Room> newRooms = new ArrayList<>(rooms);
    int which = rooms.isEmpty() ? -1 : random.nextInt(rooms.size());
    String newOwner = owner;
    if (which < 0 || rooms.get(which).furniture().isEmpty() || random.nextInt(4) == 0) {
      String o = owners.get(random.nextInt(owners.size()));
      newOwner = o.equals(owner) ? owner + " Jr." : o;
    }
    if (which >= 0) {
      Room r = rooms.get(which);
      List<Furniture> moved = new ArrayList<>(r.furniture().size());
      for (Furniture f : r.furniture()) {
        moved.add(new Furniture(f.kind(), random.nextInt(r.width()), random.nextInt(r.depth()),
            (f.rotation() + 1) % 4, Math.max(0, f.condition() - 1 - random.nextInt(5))));
      }
      newRooms.set(which, new Room(r.name(), r.width(), r.depth(), moved));
    }
    return new HouseState(id, chunkX, chunkY, tileX, tileY, newOwner, name, floors, newRooms);
  }
}
