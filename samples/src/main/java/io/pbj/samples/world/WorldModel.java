package io.pbj.samples.world;

import io.pbj.PbRegistry;
import io.pbj.publish.Publishing;
import io.pbj.publish.RemotePublished;

/**
 * What the world's server and client agree on: the service name, the registry (the publishing
 * handshake's types and the three Publishable / RemotePublished pairs, in the same order on both
 * sides) and the kinds of object.
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

  private WorldModel() {}

  /** The registry of the world sample, identical on server and client. */
  static PbRegistry registry() {
    return Publishing.register(PbRegistry.builder())
        .registerCache(Chunk.class, RemoteChunk.class)
        .registerCache(House.class, RemoteHouse.class)
        .registerCache(Item.class, RemoteItem.class)
        .build();
  }

  /** The three kinds of published object, told apart by their identity's prefix. */
  enum Kind {
    CHUNK("terrain chunks"),
    HOUSE("houses"),
    ITEM("items");

    final String plural;

    Kind(String plural) {
      this.plural = plural;
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
    if (object instanceof RemoteChunk c) {
      return c.state();
    }
    if (object instanceof RemoteHouse h) {
      return h.state();
    }
    if (object instanceof RemoteItem i) {
      return i.state();
    }
    throw new IllegalArgumentException("not a world object: " + object);
  }
}
