package io.pbj.samples.world;

import io.pbj.cluster.ClusterPublishing;
import io.pbj.publish.Publishable;
import java.util.Random;

/**
 * A published object of the world: its current state, a registered record that pb-core encodes
 * for every client (no codec of its own), and an application-supplied version that goes up by
 * one with each change, so that a restarted server holding the same states offers the same
 * versions and its clients' caches stay valid. A chunk changes by a delta of one tile, an item
 * by a delta that moves it, a house by its whole state.
 *
 * <p>In an origin cluster ({@link ClusterWorld}) the cluster sets the state ({@link
 * #takeClusterState}) and the version (derived from the state) on every member.
 *
 * <p>Thread-safety: thread-safe; the state and the version change together under this object's
 * lock, the one {@link Publishable} holds while taking a state.
 */
abstract sealed class WorldObject<S extends WorldState> extends Publishable
    implements ClusterPublishing.ClusterObject permits Chunk, House, Item {
  private S state;

  WorldObject(S state, long version) {
    super(state.identity(), version);
    this.state = state;
  }

  @Override
  protected final synchronized Object publishedState(Object perspective) {
    return state;    // immutable: every change makes a new record
  }

  /** The current state. */
  final synchronized S state() {
    return state;
  }

  /** The current state and version, read together. */
  final synchronized Versioned<S> versioned() {
    return new Versioned<>(state, version());
  }

  /** A state with the version it has. */
  record Versioned<S>(S state, long version) {}

  /** Replaces the state and republishes it whole with the next version. */
  final synchronized void change(S newState) {
    checkIdentity(newState);
    state = newState;
    republish(version() + 1);
  }

  /**
   * Replaces the state by what the client's delta method {@code method(args)} makes of the old
   * one, and pushes that delta with the next version.
   */
  final synchronized void changeByDelta(S newState, String method, Object... args) {
    checkIdentity(newState);
    state = newState;
    republishDelta(version() + 1, method, args);
  }

  /** The cluster's new state, taken with the lock held right before the cluster republishes. */
  @Override
  @SuppressWarnings("unchecked")
  public final synchronized void takeClusterState(Object newState) {
    if (!state.getClass().isInstance(newState)) {
      throw new IllegalArgumentException(identity() + " cannot take "
          + (newState == null ? "null" : "a " + newState.getClass().getName()));
    }
    S s = (S) newState;
    checkIdentity(s);
    state = s;
  }

  private void checkIdentity(S newState) {
    if (!newState.identity().equals(identity())) {
      throw new IllegalArgumentException(identity() + " cannot become " + newState.identity());
    }
  }

  /**
   * Makes a random change of the kind this object has (a chunk's tile, an item's place, a
   * house's rooms; items move within {@code worldTiles}) and pushes it.
   */
  final void changeRandomly(Random random, int worldTiles) {
    changeRandomly(random, worldTiles, WorldWriter.local(null));
  }

  /** As {@link #changeRandomly(Random, int)}, through {@code writer}. */
  abstract void changeRandomly(Random random, int worldTiles, WorldWriter writer);

  /** Whether this object changes by deltas (chunks and items) rather than whole states. */
  abstract boolean changesByDelta();

  /**
   * The object of the right kind for a state and version: also a cluster's {@link
   * ClusterPublishing.ObjectFactory}.
   */
  static WorldObject<?> of(WorldState state, long version) {
    if (state instanceof ChunkState c) {
      return new Chunk(c, version);
    }
    if (state instanceof HouseState h) {
      return new House(h, version);
    }
    return new Item((ItemState) state, version);
  }
}
