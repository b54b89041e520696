package io.pbj.samples.world;

import io.pbj.PbCodec;
import io.pbj.PbRegistry;
import io.pbj.publish.Publishing;
import io.pbj.publish.RemotePublished;
import io.pbj.publish.RemoteValue;

/**
 * What the world's server and client agree on: the service name, the registry (the publishing
 * handshake's types, the state records, and the three Publishable / RemoteValue pairs, in the
 * same order on both sides) and the kinds of object.
 *
 * <p>Thread-safety: stateless.
 */
final class WorldModel {
  /** The service the world is published as. */
  static final String SERVICE = "world";

  /**
   * Largest message both sides accept. The attach answer carries every object of the service in
   * one message (about 1 KiB each when cold), so the default 64 MiB would cap a world at about
   * 60,000 objects; {@link #MAX_OBJECTS} stays well inside this.
   */
  static final int MAX_MESSAGE_BYTES = 256 << 20;

  /**
   * Largest message a world server takes from a client: an attach with its inventory (about 30
   * bytes an object) or a fetch of identities, for {@link #MAX_OBJECTS} objects. A client's
   * message can never make the server decode more than 16 times this (the default {@code
   * maxDecodeExpansion}), whatever the larger {@link #MAX_MESSAGE_BYTES} allows it to send.
   */
  static final int MAX_REQUEST_BYTES = 8 << 20;

  /** Most objects a world may have here (see {@link #MAX_MESSAGE_BYTES}). */
  static final int MAX_OBJECTS = 100_000;

  /** Fewest objects a world may have: one chunk, some houses and items. */
  static final int MIN_OBJECTS = 10;

  /**
   * Types by stable name, so order does not matter and a client of another version shares the
   * types both know (docs/COMPATIBILITY.md). The demo runs server and client in one process with
   * one registry, so each cache registers both its sides; a separate client would register only
   * its RemoteCache classes under the same names.
   */
  private static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register("world.ChunkState", ChunkState.class)
      .register("world.HouseState", HouseState.class)
      .register("world.HouseState.Room", HouseState.Room.class)
      .register("world.HouseState.Furniture", HouseState.Furniture.class)
      .register("world.ItemState", ItemState.class)
      .register("world.ItemState.Enchantment", ItemState.Enchantment.class)
      .registerCache("world.Chunk", Chunk.class, RemoteChunk.class)
      .registerCache("world.House", House.class, RemoteHouse.class)
      .registerCache("world.Item", Item.class, RemoteItem.class)
      .build();

  private WorldModel() {}

  /** The registry of the world sample, identical on server and client (one shared instance). */
  static PbRegistry registry() {
    return REGISTRY;
  }

  /** pb-core's codec of the world's states: what stores keep and digests hash. */
  static PbCodec codec() {
    return PbCodec.of(REGISTRY);
  }

  /** The format version the state records of {@code kind} are stored under (their shape's). */
  static int formatOf(Kind kind) {
    return codec().formatOf(kind.stateClass);
  }

  /** The three kinds of published object, told apart by their identity's prefix. */
  enum Kind {
    CHUNK("terrain chunks", ChunkState.class),
    HOUSE("houses", HouseState.class),
    ITEM("items", ItemState.class);

    final String plural;
    final Class<? extends WorldState> stateClass;

    Kind(String plural, Class<? extends WorldState> stateClass) {
      this.plural = plural;
      this.stateClass = stateClass;
    }

    /** The kind of the object with {@code identity}. */
    static Kind of(String identity) {
      if (identity.startsWith("c:")) {
        return CHUNK;
      }
      if (identity.startsWith("h:")) {
        return HOUSE;
      }
      if (identity.startsWith("i:")) {
        return ITEM;
      }
      throw new IllegalArgumentException("not a world identity: " + identity);
    }
  }

  /** The decoded state of a client object; null before activation. */
  static WorldState stateOf(RemotePublished object) {
    if (object instanceof RemoteChunk || object instanceof RemoteHouse
        || object instanceof RemoteItem) {
      return (WorldState) ((RemoteValue<?>) object).value();
    }
    throw new IllegalArgumentException("not a world object: " + object);
  }

  /** What a client object received since it was activated (deltas and whole states). */
  static UpdateCounts countsOf(RemotePublished object) {
    if (object instanceof RemoteChunk c) {
      return c.counts();
    }
    if (object instanceof RemoteHouse h) {
      return h.counts();
    }
    if (object instanceof RemoteItem i) {
      return i.counts();
    }
    throw new IllegalArgumentException("not a world object: " + object);
  }
}
