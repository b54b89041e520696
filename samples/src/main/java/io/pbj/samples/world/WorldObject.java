package io.pbj.samples.world;

import io.pbj.publish.Publishable;
import java.util.Random;

/**
 * A published object of the world: its current state, encoded once per change (every client
 * that attaches gets the same bytes), and an application-supplied version that goes up by one
 * with each change, so that a restarted server holding the same states offers the same versions.
 *
 * <p>Thread-safety: thread-safe; the state and its encoding change together under this object's
 * lock, the one {@link Publishable} holds while taking a state.
 */
abstract sealed class WorldObject<S extends WorldState> extends Publishable
    permits Chunk, House, Item {
  private S state;
  private byte[] encoded;

  WorldObject(S state, long version) {
    super(state.identity(), version);
    this.state = state;
    this.encoded = state.encode();
  }

  @Override
  protected final byte[] publishedState(Object perspective) {
    return encoded;    // never mutated: every change makes a new array
  }

  @Override
  protected final int formatVersion() {
    return StateCodec.FORMAT;
  }

  /** The current state. */
  final synchronized S state() {
    return state;
  }

  /** The current state's encoding; callers must not modify it. */
  final synchronized byte[] encodedState() {
    return encoded;
  }

  /** Replaces the state and republishes it with the next version. */
  final synchronized void change(S newState) {
    if (!newState.identity().equals(identity())) {
      throw new IllegalArgumentException(identity() + " cannot become " + newState.identity());
    }
    state = newState;
    encoded = newState.encode();
    republish(version() + 1);
  }

  /**
   * Makes a random change of the kind this object has (items move within {@code worldTiles})
   * and republishes it.
   */
  abstract void changeRandomly(Random random, int worldTiles);

  /** The object of the right kind for a stored state and version. */
  static WorldObject<?> restore(String identity, long version, byte[] bytes, int format) {
    WorldObject<?> o = switch (WorldModel.Kind.of(identity)) {
      case CHUNK -> new Chunk(ChunkState.decode(bytes, format), version);
      case HOUSE -> new House(HouseState.decode(bytes, format), version);
      case ITEM -> new Item(ItemState.decode(bytes, format), version);
    };
    if (!o.identity().equals(identity)) {
      throw new IllegalArgumentException("state stored as " + identity + " is " + o.identity());
    }
    return o;
  }
}
