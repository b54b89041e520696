package io.pbj.samples.world;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;

/**
 * An item lying on the map or carried by someone: what it is, where, how many, how worn, and its
 * lore. Identity {@code i:N}; encoded as a tag and the fields in order (a few hundred bytes, most
 * of it the lore text).
 *
 * <pre>{@code
 * ItemState item = remoteItem.state();
 * System.out.println(item.name() + " at " + item.x() + "," + item.y());
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param id the item number
 * @param kind what kind of thing it is (e.g. "sword")
 * @param name its full name (e.g. "rusty iron sword")
 * @param x world tile column
 * @param y world tile row
 * @param quantity how many, 1 to 65,535
 * @param durability 0 (broken) to 100 (new)
 * @param owner who carries it, or empty when it lies on the ground
 * @param lore a description, at most 255 bytes of UTF-8
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

  public ItemState {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(owner, "owner");
    Objects.requireNonNull(lore, "lore");
    enchantments = List.copyOf(enchantments);
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

  @Override
  public byte[] encode() {
    StateCodec.Writer w = new StateCodec.Writer(400)
        .u8('I').i32(id).text(kind).text(name).i32(x).i32(y).u16(quantity).u8(durability)
        .text(owner).text(lore).u8(enchantments.size());
    for (Enchantment e : enchantments) {
      w.text(e.name()).u8(e.level());
    }
    return w.toByteArray();
  }

  /** Decodes {@link #encode()}'s bytes; throws IllegalArgumentException for anything else. */
  public static ItemState decode(byte[] state, int format) {
    StateCodec.checkFormat(format, "item");
    StateCodec.Reader in = new StateCodec.Reader(state, "item");
    in.tag('I');
    int id = in.i32();
    String kind = in.text();
    String name = in.text();
    int x = in.i32();
    int y = in.i32();
    int quantity = in.u16();
    int durability = in.u8();
    String owner = in.text();
    String lore = in.text();
    int n = in.u8();
    List<Enchantment> enchantments = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      enchantments.add(new Enchantment(in.text(), in.u8()));
    }
    in.end();
    return new ItemState(id, kind, name, x, y, quantity, durability, owner, lore, enchantments);
  }

  /**
   * The item after a change on the server: someone moved it a few tiles (within {@code
   * worldTiles}) and it wore a little. Always differs from this item.
   */
  ItemState changed(Random random, int worldTiles) {
    int nx = Math.floorMod(x + 1 + random.nextInt(16), worldTiles);
    int ny = Math.floorMod(y - 8 + random.nextInt(17), worldTiles);
    int worn = durability == 0 ? 100 : durability - 1;
    return new ItemState(id, kind, name, nx, ny, quantity, worn, owner, lore, enchantments);
  }
}
