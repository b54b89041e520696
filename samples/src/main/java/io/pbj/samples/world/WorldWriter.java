package io.pbj.samples.world;

import io.pbj.publish.PublishingService;

/**
 * Where the changes of a world go: to the objects of one origin's {@link PublishingService}
 * ({@link #local}), or to an origin cluster ({@link ClusterWorld}), whose members then apply
 * them to their own objects. {@link LiveSimulation} and {@link WorldObject#changeRandomly} write
 * through it, so the same simulation drives one server or a cluster.
 *
 * <pre>{@code
 * WorldWriter w = WorldWriter.local(service);
 * w.batch(() -> chunk.changeRandomly(random, world.worldTiles(), w));
 * }</pre>
 *
 * <p>Thread-safety: implementations are thread-safe.
 */
interface WorldWriter {
  /** The state a change of {@code object} starts from: the one its writes last made. */
  <S extends WorldState> S current(WorldObject<S> object);

  /** Replaces the state of {@code object} whole; observers get the new state. */
  <S extends WorldState> void whole(WorldObject<S> object, S newState);

  /**
   * Replaces the state of {@code object} by {@code newState}, which the client's delta {@code
   * method(args)} makes of the current one; observers get the delta.
   */
  <S extends WorldState> void delta(
      WorldObject<S> object, S newState, String method, Object... args);

  /**
   * Runs {@code change} (a read of {@link #current} and a write) so that no other change of
   * {@code object} comes between: under the object's lock for one origin; a cluster's writes do
   * not hold it, since the cluster takes that lock to apply them.
   */
  void atomically(WorldObject<?> object, Runnable change);

  /** Publishes a new object. */
  void publish(WorldObject<?> object);

  /** Unpublishes the object with {@code identity}. */
  void unpublish(String identity);

  /** Runs {@code changes} so that observers get them together where the target can. */
  void batch(Runnable changes);

  /** Writes to the objects themselves, published in {@code service} (null: changes only). */
  static WorldWriter local(PublishingService service) {
    return new Local(service);
  }

  /** The writer of one origin: each object changes itself and pushes the change. */
  final class Local implements WorldWriter {
    private final PublishingService service;

    private Local(PublishingService service) {
      this.service = service;
    }

    @Override
    public <S extends WorldState> S current(WorldObject<S> object) {
      return object.state();
    }

    @Override
    public <S extends WorldState> void whole(WorldObject<S> object, S newState) {
      object.change(newState);
    }

    @Override
    public <S extends WorldState> void delta(
        WorldObject<S> object, S newState, String method, Object... args) {
      object.changeByDelta(newState, method, args);
    }

    @Override
    public void atomically(WorldObject<?> object, Runnable change) {
      synchronized (object) {
        change.run();
      }
    }

    @Override
    public void publish(WorldObject<?> object) {
      service().publish(object);
    }

    @Override
    public void unpublish(String identity) {
      service().unpublish(identity);
    }

    @Override
    public void batch(Runnable changes) {
      if (service == null) {
        changes.run();
      } else {
        service.batch(changes);
      }
    }

    private PublishingService service() {
      if (service == null) {
        throw new IllegalStateException(
            "this writer changes objects only: no service to publish in");
      }
      return service;
    }
  }
}
