package io.pbj.samples.world;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.pbj.cluster.ClusterPublishing;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One member of an origin cluster serving the world ({@code world-server --cluster}): a {@link
 * ClusterPublishing} whose local objects are the world's {@link WorldObject}s, kept in a local
 * {@link World} as the cluster's states reach this member, and a {@link WorldWriter} that writes
 * to the cluster, so that a {@link LiveSimulation} on any member changes the world of all.
 *
 * <p>One simulation changes the world at a time: {@link #mayTick} lets the oldest member's tick
 * (Hazelcast lists members oldest first), so when it dies the next one goes on. A digest ({@link
 * #digest}) pauses the whole cluster's simulation through a small control map, waits until this
 * member's objects hold the cluster's states, and answers their digest, for {@code world-client
 * --follow} on whichever member it is attached to.
 *
 * <pre>{@code
 * ClusterWorld w = ClusterWorld.join(hazelcast, key, System.out::println);
 * w.loadIfEmpty(World.generate(10_000, 1));
 * PbServer.builder().root(new WorldRoot(w)) ...
 * LiveSimulation.start(w.world(), w, w::mayTick, 200, new Random(), (c, r) -> {});
 * }</pre>
 *
 * <p>Thread-safety: thread-safe.
 */
final class ClusterWorld implements WorldWriter, AutoCloseable {
  /** The control map of the world's members (pauses of the simulation). */
  static final String CONTROL_MAP = "pbj-world-control";

  /** slf4j-simple's level of Hazelcast's loggers (warn unless set). */
  private static final String HAZELCAST_LOG_LEVEL = "org.slf4j.simpleLogger.log.com.hazelcast";

  private static final String PAUSE = "pause";
  private static final String PAUSED = "paused";
  private static final String LIVE = "live";
  /** How long a digest waits for the simulation to stop and for this member to catch up. */
  private static final Duration CATCH_UP = Duration.ofSeconds(30);

  private final HazelcastInstance hazelcast;
  private final ClusterPublishing cluster;
  private final World world;
  private final IMap<String, String> control;
  private final Consumer<String> notices;
  private volatile boolean leading;

  private ClusterWorld(HazelcastInstance hazelcast, ClusterPublishing cluster, World world,
      Consumer<String> notices) {
    this.hazelcast = hazelcast;
    this.cluster = cluster;
    this.world = world;
    this.control = hazelcast.getMap(CONTROL_MAP);
    this.notices = notices;
  }

  /**
   * Starts an embedded Hazelcast member of cluster {@code name} on {@code host:port} (host null:
   * Hazelcast picks the interface), joining the {@code members} ({@code host:port}) over TCP/IP:
   * no multicast, no phone-home, logging through SLF4J (at warn unless set), no shutdown hook of
   * its own.
   */
  static HazelcastInstance startHazelcast(
      String name, String host, int port, List<String> members) {
    if (System.getProperty(HAZELCAST_LOG_LEVEL) == null) {
      // Hazelcast's start-up banner and member lists would drown the server's own lines
      System.setProperty(HAZELCAST_LOG_LEVEL, "warn");
    }
    Config config = new Config();
    config.setClusterName(name);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    if (host != null) {
      config.setProperty("hazelcast.local.localAddress", host);
    }
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(port).setPortAutoIncrement(false);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(members);
    return Hazelcast.newHazelcastInstance(config);
  }

  /**
   * Joins the world's cluster in {@code hazelcast} (the caller's: it shuts it down) with the
   * cluster's {@code key}, and makes this member's objects of what the cluster holds. {@code
   * notices} hears when this member's simulation starts leading.
   */
  static ClusterWorld join(HazelcastInstance hazelcast, ServerKey key, Consumer<String> notices) {
    World world = World.of(List.of());
    ClusterPublishing cluster = ClusterPublishing.builder()
        .hazelcast(hazelcast)
        .registry(WorldModel.registry())
        .serverKey(key)
        .service(WorldModel.SERVICE)
        .objects((identity, version, state) -> {
          if (!(state instanceof WorldState s) || !s.identity().equals(identity)) {
            throw new IllegalArgumentException("the cluster holds no world state under " + identity
                + ": " + (state == null ? "null" : state.getClass().getName()));
          }
          WorldObject<?> o = WorldObject.of(s, version);
          world.put(o);
          return o;
        })
        .build();
    return new ClusterWorld(hazelcast, cluster, world, notices);
  }

  /**
   * Publishes every object of {@code generated} in the cluster if the cluster holds none yet (the
   * first member); returns whether it did. Members that start together with the same options
   * load the same states, at the same versions.
   */
  boolean loadIfEmpty(World generated) {
    if (cluster.size() > 0) {
      return false;
    }
    Map<String, Object> states = new LinkedHashMap<>();
    generated.objects().forEach((id, o) -> states.put(id, o.state()));
    cluster.publishAll(states);
    return true;
  }

  /** This member's local service: its endpoint is the server's publishing endpoint. */
  PublishingService service() {
    return cluster.service();
  }

  /** The cluster's proven server id. */
  String serverId() {
    return cluster.serverId();
  }

  /** Objects the cluster publishes. */
  int size() {
    return cluster.size();
  }

  /** This member's world: its objects as the cluster's states reached it. */
  World world() {
    return world;
  }

  /** Tells the cluster where clients reach this member. */
  void advertise(String host, int port) {
    cluster.advertise(host, port);
  }

  /** The members clients can reach ({@code host:port}). */
  List<String> members() {
    return cluster.members();
  }

  /** Says that a simulation runs in the cluster, so that a digest waits for it to pause. */
  void goingLive() {
    control.put(LIVE, hazelcast.getCluster().getLocalMember().getUuid().toString());
  }

  /**
   * Whether this member's simulation may tick now: only on the oldest member, and not while a
   * digest pauses the cluster (which this tick then acknowledges). A member that starts leading
   * first drops the objects the previous one unpublished.
   */
  boolean mayTick() {
    Iterator<Member> members = hazelcast.getCluster().getMembers().iterator();
    if (!members.hasNext() || !members.next().localMember()) {
      leading = false;
      return false;
    }
    if (!leading) {
      leading = true;
      world.removeIf(o -> !isPublished(o));
      notices.accept("this member runs the live simulation now (the oldest member)");
    }
    String pause = control.get(PAUSE);
    if (pause != null) {
      if (!pause.equals(control.get(PAUSED))) {
        control.put(PAUSED, pause, LiveSimulation.MAX_PAUSE.toMillis(), TimeUnit.MILLISECONDS);
      }
      return false;
    }
    return true;
  }

  private boolean isPublished(WorldObject<?> o) {
    return cluster.service().get(o.identity()).orElse(null) == o;
  }

  /** This member's objects that it publishes now. */
  private List<WorldObject<?>> published() {
    List<WorldObject<?>> mine = new ArrayList<>();
    for (WorldObject<?> o : world.objects().values()) {
      if (isPublished(o)) {
        mine.add(o);
      }
    }
    return mine;
  }

  /**
   * Pauses the cluster's simulation for {@code pause} (or until {@link #resume}), waits until it
   * stopped and this member holds the cluster's states, and answers the digest of this member's
   * objects ({@link WorldDigest}).
   *
   * @throws IllegalStateException if this member does not catch up within 30 s
   */
  Map<String, String> digest(Duration pause) throws InterruptedException {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    if (!pause.isZero()) {
      String token = UUID.randomUUID().toString();
      control.put(PAUSE, token, pause.toMillis(), TimeUnit.MILLISECONDS);
      if (control.containsKey(LIVE)) {
        while (!token.equals(control.get(PAUSED)) && System.nanoTime() - deadline < 0) {
          TimeUnit.MILLISECONDS.sleep(20);
        }
      }
    }
    List<WorldObject<?>> mine;
    while (!caughtUp(mine = published())) {
      if (System.nanoTime() - deadline >= 0) {
        throw new IllegalStateException("this member's world did not catch up with the cluster's"
            + " within " + CATCH_UP.toSeconds() + " s");
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
    Map<String, String> digest = new HashMap<>();
    for (WorldObject<?> o : mine) {
      WorldObject.Versioned<? extends WorldState> v = o.versioned();
      digest.put(o.identity(), WorldDigest.entry(v.version(), v.state().encode()));
    }
    return digest;
  }

  /**
   * Whether {@code mine} are exactly the cluster's objects, each at the cluster's version (a
   * version is derived from the state, so the same version is the same state).
   */
  private boolean caughtUp(List<WorldObject<?>> mine) {
    if (mine.size() != cluster.size()) {
      return false;
    }
    for (WorldObject<?> o : mine) {
      if (!cluster.version(o.identity()).equals(Optional.of(o.version()))) {
        return false;
      }
    }
    return true;
  }

  /** Ends a pause that {@link #digest} began. */
  void resume() {
    control.remove(PAUSE);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <S extends WorldState> S current(WorldObject<S> object) {
    Optional<Object> s = cluster.state(object.identity());
    return s.isPresent() && object.state().getClass().isInstance(s.get())
        ? (S) s.get() : object.state();
  }

  @Override
  public <S extends WorldState> void whole(WorldObject<S> object, S newState) {
    if (cluster.version(object.identity()).isEmpty()) {
      world.remove(object.identity());    // unpublished by a member that led before: not again
      return;
    }
    cluster.publish(object.identity(), newState);
  }

  @Override
  public <S extends WorldState> void delta(
      WorldObject<S> object, S newState, String method, Object... args) {
    try {
      cluster.delta(object.identity(), newState, method, args);
    } catch (IllegalStateException e) {
      if (cluster.version(object.identity()).isPresent()) {
        throw e;
      }
      world.remove(object.identity());    // unpublished by a member that led before
    }
  }

  @Override
  public void atomically(WorldObject<?> object, Runnable change) {
    change.run();    // one simulation writes at a time (mayTick); the cluster takes the lock
  }

  @Override
  public void publish(WorldObject<?> object) {
    cluster.publish(object.identity(), object.state());
  }

  @Override
  public void unpublish(String identity) {
    cluster.unpublish(identity);
  }

  @Override
  public void batch(Runnable changes) {
    changes.run();
  }

  /** Leaves the cluster (the Hazelcast member is the caller's to shut down). */
  @Override
  public void close() {
    cluster.close();
  }
}
