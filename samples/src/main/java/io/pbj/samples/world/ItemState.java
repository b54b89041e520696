package io.pbj.samples.world;

import java.util.List;
import java.util.Objects;

/**
 * An item lying on the map or carried by someone: what it is, where, how many, how worn, and its
 * lore. Identity {@code i:N}; a registered record (with {@link Enchantment}), a few hundred bytes
 * as pb-core encodes it, most of it the lore text. An item moves by a delta ({@link #movedTo}).
 *
 * <pre>{@code
 * ItemState item = remoteItem.value();
 * System.out.println(item.name() + " at " + item.x() + "," + item.y());
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param id the item number
 * @param kind what kind of thing it is (e.g. "sword")
 * @param name its full name (e.g. "rusty iron sword")
 * @param x world tile column, not negative
 * @param y world tile row, not negative
 * @param quantity how many, 1 to 65,535
 * @param durability 0 (broken) to 100 (new)
 * @param owner who carries it, or empty when it lies on the ground
 * @param lore a description
 * @param enchantments its enchantments, at most 255
 */
public record ItemState(
    int id,
    String kind,
    String name,
    int x,
    int y,
    int quantity,
    int durability,
    String owner,
    String lore,
    List<Enchantment> enchantments) implements WorldState {

  /** Checks every part (a decoded state comes through here too). */
  public ItemState {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(lore, "lore");
    enchantments = List.copyOf(enchantments);
    if (x < 0 || y < 0) {
      throw new IllegalArgumentException("item " + id + " at " + x + "," + y + ": negative coordinate");
    }
    if (quantity < 1 || quantity > 0xFFFF || durability < 0 || durability > 100
        || enchantments.size() > 255) {
      throw new IllegalArgumentException("item " + id + ": quantity, durability or enchantments out of range");
    }
  }

  /**
   * An enchantment. Immutable.
   *
   * @param name what it does
   * @param level how strong, 1 to 255
   */
  public record Enchantment(String name, int level) {
    /** Checks every part. */
    public Enchantment {
      Objects.requireNonNull(name, "name");
      if (level < 1 || level > 255) {
        throw new IllegalArgumentException("enchantment level out of range: " + level);
      }
    }
  }

  /** The identity of item {@code id}. */
  static String identity(int id) {
    return "i:" + id;
  }

  @Override
  public String identity() {
    return identity(id);
  }

  /**
   * The delta an item changes by: the item moved to world tile ({@code newX}, {@code newY}).
   *
   * @throws IllegalArgumentException if a coordinate is negative
   */
  public ItemState movedTo(int newX, int newY) {
    return new ItemState(id, kind, name, newX, newY, quantity, durability, owner, lore, enchantments);
  }
}
