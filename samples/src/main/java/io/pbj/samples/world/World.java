package io.pbj.samples.world;

import io.pbj.publish.PublishingService;
import io.pbj.samples.world.WorldModel.Kind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The server's world: every published object by identity, the changes made to it, and the
 * houses and items that appear and disappear while it is live ({@link LiveSimulation}).
 *
 * <pre>{@code
 * World world = World.generate(10_000, 1);
 * world.publishTo(service);
 * List<WorldObject<?>> changed = world.change(100, new Random());   // pushed, version + 1
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the set of objects changes under this object's lock, each
 * object is thread-safe, and {@link #change} may run while clients attach. New houses and items
 * get numbers never used before in this world ({@link #nextHouseId()}, {@link #nextItemId()},
 * kept by the archive), so a client's stored copy of a gone object is never taken for a new one.
 */
final class World {
  private final List<WorldObject<?>> list;
  private final Map<String, Integer> index;
  private int worldTiles;
  private int nextHouse;
  private int nextItem;
  private long firstVersion = 1;

  private World(Collection<WorldObject<?>> objects, int nextHouse, int nextItem) {
    list = new ArrayList<>(objects.size());
    index = new HashMap<>(objects.size() * 2);
    this.worldTiles = ChunkState.SIZE;
    this.nextHouse = nextHouse;
    this.nextItem = nextItem;
    for (WorldObject<?> o : objects) {
      if (index.put(o.identity(), list.size()) != null) {
        throw new IllegalArgumentException("two objects are " + o.identity());
      }
      list.add(o);
      account(o);
    }
  }

  /** Grows the map and the next numbers to cover {@code o}. */
  private void account(WorldObject<?> o) {
    if (o.state() instanceof ChunkState c) {
      worldTiles = Math.max(worldTiles, (Math.max(c.x(), c.y()) + 1) * ChunkState.SIZE);
    } else if (o.state() instanceof HouseState h) {
      nextHouse = Math.max(nextHouse, h.id() + 1);
    } else if (o.state() instanceof ItemState i) {
      nextItem = Math.max(nextItem, i.id() + 1);
    }
  }

  /**
   * Adds {@code o}, or puts it in the place of the object with its identity (an origin cluster's
   * members make their objects as the cluster's states reach them: {@link ClusterWorld}).
   */
  synchronized void put(WorldObject<?> o) {
    Integer i = index.get(o.identity());
    if (i == null) {
      index.put(o.identity(), list.size());
      list.add(o);
    } else {
      list.set(i, o);
    }
    account(o);
  }

  /**
   * Takes out every object that {@code gone} says is gone (asked without this world's lock, so
   * it may take others), unless another object took its place meanwhile; returns how many.
   */
  int removeIf(java.util.function.Predicate<WorldObject<?>> gone) {
    int removed = 0;
    for (WorldObject<?> o : objects().values()) {
      if (gone.test(o)) {
        synchronized (this) {
          if (get(o.identity()) == o) {
            remove(o.identity());
            removed++;
          }
        }
      }
    }
    return removed;
  }

  /** A new world of {@code objects} objects, all at version 1, made from {@code seed}. */
  static World generate(int objects, long seed) {
    return new World(new WorldGenerator(seed).generate(objects), 0, 0);
  }

  /** A world of the given objects (restored from a store). */
  static World of(Collection<WorldObject<?>> objects) {
    return new World(objects, 0, 0);
  }

  /**
   * A world of the given objects whose new houses and items are numbered from at least {@code
   * nextHouse} and {@code nextItem} (numbers of objects that were removed are not used again).
   */
  static World of(Collection<WorldObject<?>> objects, int nextHouse, int nextItem) {
    return new World(objects, nextHouse, nextItem);
  }

  /** Every object, by identity: a snapshot. */
  synchronized Map<String, WorldObject<?>> objects() {
    Map<String, WorldObject<?>> m = new LinkedHashMap<>(list.size() * 2);
    for (WorldObject<?> o : list) {
      m.put(o.identity(), o);
    }
    return Collections.unmodifiableMap(m);
  }

  /** The object with {@code identity}, or null. */
  synchronized WorldObject<?> get(String identity) {
    Integer i = index.get(identity);
    return i == null ? null : list.get(i);
  }

  synchronized int size() {
    return list.size();
  }

  /** World tiles along each side of the map. */
  synchronized int worldTiles() {
    return worldTiles;
  }

  /** The number the next new house gets. */
  synchronized int nextHouseId() {
    return nextHouse;
  }

  /** The number the next new item gets. */
  synchronized int nextItemId() {
    return nextItem;
  }

  /**
   * The version new houses and items start at (1 unless a restart after a lost save moved it on,
   * see {@link WorldArchive}), so a new object never repeats a version a lost one had.
   */
  synchronized long firstVersion() {
    return firstVersion;
  }

  synchronized void firstVersion(long version) {
    firstVersion = version;
  }

  /** Number of objects of each kind. */
  Map<Kind, Integer> counts() {
    Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      counts.put(k, 0);
    }
    objects().keySet().forEach(id -> counts.merge(Kind.of(id), 1, Integer::sum));
    return counts;
  }

  /** Encoded state bytes of each kind (pb-core's encoding, as stores keep it). */
  Map<Kind, Long> stateBytes() {
    Map<Kind, Long> bytes = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      bytes.put(k, 0L);
    }
    objects().values().forEach(o ->
        bytes.merge(Kind.of(o.identity()), (long) o.state().encode().length, Long::sum));
    return bytes;
  }

  /** Publishes every object in {@code service}. */
  void publishTo(PublishingService service) {
    service.publishAll(objects().values());
  }

  /** How many objects {@code percent} percent of {@code size} is, rounded. */
  static int percentOf(int size, double percent) {
    return (int) Math.round(size * percent / 100.0);
  }

  /**
   * Changes {@code count} objects picked at random: each gets a new state and its version goes up
   * by one, pushed to whoever observes it (a delta for chunks and items, the whole state for
   * houses). Returns the changed objects.
   */
  List<WorldObject<?>> change(int count, Random random) {
    List<WorldObject<?>> all = new ArrayList<>(objects().values());
    if (count < 0 || count > all.size()) {
      throw new IllegalArgumentException("cannot change " + count + " of " + all.size() + " objects");
    }
    List<WorldObject<?>> changed = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int j = i + random.nextInt(all.size() - i);
      WorldObject<?> o = all.get(j);
      all.set(j, all.get(i));
      all.set(i, o);
      o.changeRandomly(random, worldTiles());
      changed.add(o);
    }
    return changed;
  }

  /** An object picked at random; null if the world is empty. */
  synchronized WorldObject<?> random(Random random) {
    return list.isEmpty() ? null : list.get(random.nextInt(list.size()));
  }

  /**
   * A new house or item (at {@link #firstVersion()}, with the next unused number), added to the
   * world; the caller publishes it.
   */
  synchronized WorldObject<?> spawn(Kind kind, Random random) {
    WorldGenerator g = new WorldGenerator(random.nextLong());
    WorldObject<?> o = switch (kind) {
      case HOUSE -> new House(g.house(nextHouse++, worldTiles / ChunkState.SIZE), firstVersion);
      case ITEM -> new Item(g.item(nextItem++, worldTiles), firstVersion);
      case CHUNK -> throw new IllegalArgumentException("the map's chunks are fixed");
    };
    index.put(o.identity(), list.size());
    list.add(o);
    return o;
  }

  /** Takes the object with {@code identity} out of the world; the caller unpublishes it. */
  synchronized WorldObject<?> remove(String identity) {
    Integer i = index.remove(identity);
    if (i == null) {
      return null;
    }
    WorldObject<?> gone = list.get(i);
    WorldObject<?> last = list.remove(list.size() - 1);
    if (last != gone) {
      list.set(i, last);
      index.put(last.identity(), i);
    }
    return gone;
  }
}
