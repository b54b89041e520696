package io.pbj.samples.world;

import io.pbj.publish.PublishingService;
import io.pbj.samples.world.WorldModel.Kind;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The server's world: every published object by identity, and the changes made to it.
 *
 * <pre>{@code
 * World world = World.generate(10_000, 1);
 * world.publishTo(service);
 * List<WorldObject<?>> changed = world.change(100, new Random());   // republished, version + 1
 * }</pre>
 *
 * <p>Thread-safety: the set of objects is fixed at construction; each object is thread-safe, and
 * {@link #change} may run while clients attach.
 */
final class World {
  private final Map<String, WorldObject<?>> objects;
  private final int worldTiles;

  private World(Collection<WorldObject<?>> objects) {
    Map<String, WorldObject<?>> m = new LinkedHashMap<>(objects.size() * 2);
    int side = 1;
    for (WorldObject<?> o : objects) {
      if (m.put(o.identity(), o) != null) {
        throw new IllegalArgumentException("two objects are " + o.identity());
      }
      if (o instanceof Chunk c) {
        side = Math.max(side, Math.max(c.state().x(), c.state().y()) + 1);
      }
    }
    this.objects = Collections.unmodifiableMap(m);
    this.worldTiles = side * ChunkState.SIZE;
  }

  /** A new world of {@code objects} objects, all at version 1, made from {@code seed}. */
  static World generate(int objects, long seed) {
    return new World(new WorldGenerator(seed).generate(objects));
  }

  /** A world of the given objects (restored from a store). */
  static World of(Collection<WorldObject<?>> objects) {
    return new World(objects);
  }

  /** Every object, by identity. */
  Map<String, WorldObject<?>> objects() {
    return objects;
  }

  int size() {
    return objects.size();
  }

  /** Number of objects of each kind. */
  Map<Kind, Integer> counts() {
    Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      counts.put(k, 0);
    }
    objects.keySet().forEach(id -> counts.merge(Kind.of(id), 1, Integer::sum));
    return counts;
  }

  /** Encoded state bytes of each kind. */
  Map<Kind, Long> stateBytes() {
    Map<Kind, Long> bytes = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      bytes.put(k, 0L);
    }
    objects.values().forEach(o -> bytes.merge(Kind.of(o.identity()), (long) o.encodedState().length, Long::sum));
    return bytes;
  }

  /** Publishes every object in {@code service}. */
  void publishTo(PublishingService service) {
    service.publishAll(objects.values());
  }

  /** How many objects {@code percent} percent of {@code size} is, rounded. */
  static int percentOf(int size, double percent) {
    return (int) Math.round(size * percent / 100.0);
  }

  /**
   * Changes {@code count} objects picked at random: each gets a new state and its version goes up
   * by one, pushed to whoever observes it. Returns the changed objects.
   */
  List<WorldObject<?>> change(int count, Random random) {
    List<WorldObject<?>> all = new ArrayList<>(objects.values());
    if (count < 0 || count > all.size()) {
      throw new IllegalArgumentException("cannot change " + count + " of " + all.size() + " objects");
    }
    List<WorldObject<?>> changed = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int j = i + random.nextInt(all.size() - i);
      WorldObject<?> o = all.get(j);
      all.set(j, all.get(i));
      all.set(i, o);
      o.changeRandomly(random, worldTiles);
      changed.add(o);
    }
    return changed;
  }
}
