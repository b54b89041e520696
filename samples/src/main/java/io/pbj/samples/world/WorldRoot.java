package io.pbj.samples.world;

import io.pbj.Referenceable;
import io.pbj.Remote;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The world server's root object, shared by every connection: the publishing endpoint to attach
 * to, and the server's digest of its world for clients that check their copy ({@code
 * world-client --follow}).
 *
 * <pre>{@code
 * RemoteReference root = client.rootObject().join();
 * RemoteReference endpoint = root.callRemote(RemoteReference.class, "publishing").join();
 * Attachment world = publishedClient.attach(endpoint, WorldModel.SERVICE).join();
 * Map<String, String> digest = root.callRemote(Map.class, "digest", 10_000).join();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; a digest and a pause exclude the simulation's ticks.
 */
public final class WorldRoot implements Referenceable {
  private final Referenceable publishing;
  private final World world;
  private final ClusterWorld cluster;
  private volatile LiveSimulation live;

  /** A root for {@code world}, published through {@code publishing}; {@code live} may be null. */
  WorldRoot(Referenceable publishing, World world, LiveSimulation live) {
    this.publishing = publishing;
    this.world = world;
    this.live = live;
    this.cluster = null;
  }

  /** A root for a member of an origin cluster: the digest is the cluster's, paused as a whole. */
  WorldRoot(ClusterWorld cluster) {
    this.publishing = cluster.service().endpoint();
    this.world = cluster.world();
    this.cluster = cluster;
  }

  /** Makes the world live from now on (null: still again). */
  void live(LiveSimulation simulation) {
    live = simulation;
  }

  /** The publishing endpoint ({@code PublishingService.endpoint()}), to attach to. */
  @Remote
  public Referenceable publishing() {
    return publishing;
  }

  /**
   * The digest of every object (identity to {@code "VERSION SHA256"} of pb-core's encoding of
   * its state), taken between two ticks of a live world, which then stays still for {@code
   * pauseMillis} (0 to 60,000) or until {@link #resume}, so the caller can catch up with it.
   */
  @Remote
  public Map<String, String> digest(int pauseMillis) throws InterruptedException {
    if (pauseMillis < 0 || pauseMillis > LiveSimulation.MAX_PAUSE.toMillis()) {
      throw new IllegalArgumentException("digest: pauseMillis must be 0 to "
          + LiveSimulation.MAX_PAUSE.toMillis() + ", got " + pauseMillis);
    }
    if (cluster != null) {
      return new HashMap<>(cluster.digest(Duration.ofMillis(pauseMillis)));
    }
    LiveSimulation l = live;
    Map<String, String> d =
        l == null ? WorldDigest.of(world) : l.pauseAndDigest(Duration.ofMillis(pauseMillis));
    return new HashMap<>(d);
  }

  /** Ends a pause that {@link #digest} began (nothing if the world is not live). */
  @Remote
  public void resume() {
    if (cluster != null) {
      cluster.resume();
      return;
    }
    LiveSimulation l = live;
    if (l != null) {
      l.resume();
    }
  }
}
