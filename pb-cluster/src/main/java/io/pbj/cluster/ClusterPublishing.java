package io.pbj.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.LifecycleEvent;
import com.hazelcast.map.IMap;
import com.hazelcast.map.MapEvent;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryEvictedListener;
import com.hazelcast.map.listener.EntryExpiredListener;
import com.hazelcast.map.listener.EntryMergedListener;
import com.hazelcast.map.listener.EntryRemovedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import com.hazelcast.map.listener.MapClearedListener;
import com.hazelcast.map.listener.MapEvictedListener;
import io.pbj.PbClient;
import io.pbj.PbCodec;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.publish.Publishable;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of an origin cluster: a {@link PublishingService} whose objects, versions and states
 * live in a Hazelcast map shared by every member, all serving under one proven server id.
 *
 * <p>Every member builds one with the same {@link ServerKey}, so every member proves the same
 * server id and a client's store is valid whichever member it attaches to. Clients attach to
 * {@link #service()}'s endpoint exactly as to a single origin.
 *
 * <pre>{@code
 * ClusterPublishing world = ClusterPublishing.builder()
 *     .hazelcast(hazelcastInstance)                 // the application's member
 *     .registry(registry)                           // encodes states and delta arguments
 *     .serverKey(ServerKey.read(clusterKeyFile))    // the same key on every member
 *     .service("world")
 *     .objects((id, version, state) -> new Tile(id, version, (TileState) state))
 *     .build();
 * PbServer server = PbServer.builder().port(7000).registry(registry)
 *     .root(world.service().endpoint()).build().start();
 * world.advertise("10.0.0.5", 7000);
 * world.publish("tile-0-0", new TileState("grass"));    // reaches every member's clients
 * world.delta("tile-0-0", new TileState("sand"), "setTerrain", "sand");
 * }</pre>
 *
 * <p><b>What the map holds.</b> One Hazelcast {@code IMap<String, byte[]>} per service, named
 * {@code pbj.publish.<service>}: identity to a compact record of this module's own format (no
 * Hazelcast serialization set-up): a per-key write counter ({@code seq}), the version, the state
 * in the registry's codec ({@link PbCodec}), and the last change (whole, or a delta with the
 * version it applies to, its method and arguments). A second map, {@code pbj.cluster}, holds the
 * cluster's server id per service and the addresses members {@link #advertise}.
 *
 * <p><b>Versions come from content.</b> An object's version is the first 8 bytes of the SHA-256
 * of the record format, its identity and its encoded state. So a version names one state: two
 * members (or the two sides of a network split) that write different states write different
 * versions, members that hold the same state hold the same version, and a cluster restarted with
 * the same states has the same versions, so clients' stores stay valid; no clock and no counter
 * is shared between members. Two different states of one identity share a version only if their
 * 64-bit hashes collide: with n distinct states of one identity the chance is below n<sup>2</sup>
 * / 2<sup>65</sup> (under 3 &times; 10<sup>-8</sup> for a million states). A write whose state
 * encodes to the current version changes nothing and writes nothing.
 *
 * <p><b>Changes.</b> {@link #publish}, {@link #publishAll}, {@link #delta} and {@link #unpublish}
 * write the map with a compare-and-set loop (so {@code seq} grows by one per write of a key at its
 * partition owner) and return once the map holds the change. Every member, the writer included,
 * applies it to its local service when Hazelcast delivers the map's entry event, so the local
 * service catches up asynchronously, soon after the write returns. Hazelcast delivers the events
 * of one key in the order of its writes, on one event thread (its documentation, "Global Event
 * Configuration"); a member applies them in that order, so the observers of every member see one
 * object's versions in the map's order. An event older than what a member holds ({@code seq} not
 * above the member's) is ignored. After a network split heals, Hazelcast's merge policy picks a
 * value per key and every member applies it as it is.
 *
 * <p><b>Catching up.</b> At {@link Builder#build()}, after a member leaves the cluster (events of
 * its partitions may be lost with it), after this member merges back from a split, after the map
 * is cleared or evicted, and on {@link #reload()}, a member reloads the whole map: events that
 * arrive meanwhile are held and applied after the map's contents, in their order, so the member
 * ends equal to the map. Each event carries the whole state, so an event lost otherwise (Hazelcast
 * drops events when a member's event queue overflows) leaves the member behind on that object
 * only until its next change; a delta whose base the member missed is republished whole.
 *
 * <p><b>Local objects.</b> A member makes its local object of a state with the {@link
 * ObjectFactory}: a {@link Publishable} at the given version implementing {@link ClusterObject}.
 * Later changes call {@link ClusterObject#takeClusterState} and then republish it at the cluster's
 * version (whole, or as the delta when the member holds the version the delta applies to). Change
 * cluster objects only through this class: a {@code republish} or {@code publish} made on the
 * local service directly reaches that member's clients only.
 *
 * <p><b>Bounds.</b> A state, and a delta's arguments, encode to at most {@link
 * Builder#maxStateBytes} bytes; a bigger one is refused when written, and a bigger record read
 * from the map (which any program holding the cluster may write) is skipped and logged, as is any
 * record this code cannot read. A bad record never stops the member from applying other changes.
 *
 * <p>Thread-safety: thread-safe. Writes may come from any thread. Changes are applied on
 * Hazelcast's event threads, briefly: decoding a state and handing pushes to the connections
 * (which write asynchronously); a reload holds them back while it applies the map.
 */
public final class ClusterPublishing implements AutoCloseable {
  /**
   * Makes the local object of a member for a state of the cluster map: a {@link Publishable} of
   * the class registered for the state's kind, implementing {@link ClusterObject}.
   *
   * <p>Thread-safety: called on Hazelcast event threads (and the building thread), one identity
   * at a time; must be thread-safe.
   */
  @FunctionalInterface
  public interface ObjectFactory {
    /** A new local object for {@code identity} at {@code version} holding {@code state}. */
    Publishable create(String identity, long version, Object state);
  }

  /**
   * A {@link Publishable} whose state the cluster sets before republishing it.
   *
   * <p>Thread-safety: {@link #takeClusterState} is called with the object's lock held.
   */
  public interface ClusterObject {
    /**
     * Replaces the state (called with the object's lock held, right before the cluster
     * republishes it whole or as a delta at the cluster's version).
     */
    void takeClusterState(Object state);
  }

  /** The default of {@link Builder#maxStateBytes}: 1 MiB. */
  public static final int DEFAULT_MAX_STATE_BYTES = 1 << 20;

  /** The most addresses {@link #members()} returns. */
  public static final int MAX_MEMBERS = PublishingService.MAX_MEMBERS;

  /** The prefix of the name of a service's map: {@code pbj.publish.<service>}. */
  public static final String MAP_PREFIX = "pbj.publish.";

  /** The name of the map holding server ids and advertised addresses. */
  public static final String CLUSTER_MAP = "pbj.cluster";

  private static final Logger log = LoggerFactory.getLogger(ClusterPublishing.class);


  /** What an entry event asks of this member. */
  private enum Kind {
    /** Added or updated: applied if newer than what the member applied last. */
    UPSERT,
    REMOVE,
    /** After a split healed: applied as it is. */
    MERGE,
    /** Read by a reload: applied as it is (see {@link #reloadHeld}). */
    LOADED
  }

  /** An entry event, held while a reload runs. */
  private record Change(Kind kind, String identity, byte[] value) {}

  private final HazelcastInstance hazelcast;
  private final PbCodec codec;
  private final ObjectFactory factory;
  private final int maxStateBytes;
  private final String serviceName;
  private final PublishingService service;
  private final IMap<String, byte[]> map;
  private final IMap<String, String> cluster;
  /** The seq each published identity was last applied at; an entry per local cluster object. */
  private final Map<String, Long> seqs = new ConcurrentHashMap<>();
  /** Events take the read lock, a reload the write lock (to start holding and to apply). */
  private final ReentrantReadWriteLock applying = new ReentrantReadWriteLock();
  /** Guarded by {@link #applying}: true while a reload holds events back. */
  private boolean holding;
  private final ConcurrentLinkedQueue<Change> held = new ConcurrentLinkedQueue<>();
  /** Reloads and member clean-up run here, never on a Hazelcast event thread. */
  private final ExecutorService background;
  private volatile boolean closed;
  /** What this member advertised, and under which key (a member's UUID changes on a merge). */
  private volatile String advertisedAddress;
  private final Object advertising = new Object();
  private volatile String advertisedKey;
  /** One reload at a time: a second one must not stop holding events while the first reads. */
  private final Object reloading = new Object();
  private UUID entryListener;
  private UUID membershipListener;
  private UUID lifecycleListener;

  private ClusterPublishing(Builder builder) {
    this.hazelcast = builder.hazelcast;
    this.codec = PbCodec.of(builder.registry, builder.maxStateBytes);
    this.factory = builder.factory;
    this.maxStateBytes = builder.maxStateBytes;
    this.serviceName = builder.service;
    this.map = hazelcast.getMap(MAP_PREFIX + serviceName);
    this.cluster = hazelcast.getMap(CLUSTER_MAP);
    PublishingService.Builder b =
        PublishingService.builder().serverKey(builder.serverKey).service(builder.service);
    b.members(this::members);    // the endpoint's members(): where clients fail over to
    if (builder.options != null) {
      builder.options.accept(b);
    }
    this.service = b.build();
    this.background = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "pbj-cluster-" + serviceName);
      t.setDaemon(true);
      return t;
    });
  }

  /** A builder. */
  public static Builder builder() {
    return new Builder();
  }

  @SuppressWarnings("unchecked") // the map is read as holding anything
  private void start() {
    String id = service.serverId();
    // A program in the cluster may have written anything under the key: read it as an Object.
    Object existing = ((IMap<String, Object>) (IMap<String, ?>) cluster)
        .putIfAbsent(serverIdKey(), id);
    if (existing != null && !(existing instanceof String)) {
      throw new IllegalStateException("the cluster map " + CLUSTER_MAP + " holds a "
          + existing.getClass().getName() + " under " + serverIdKey() + ", not a server id:"
          + " remove the entry");
    }
    if (existing != null && !existing.equals(id)) {
      throw new IllegalStateException("this member holds a different ServerKey than the cluster:"
          + " every member must use the same key (service " + serviceName + ": the cluster's"
          + " server id is " + existing + ", this member's is " + id + ")");
    }
    membershipListener = hazelcast.getCluster().addMembershipListener(new Members());
    lifecycleListener = hazelcast.getLifecycleService().addLifecycleListener(e -> {
      if (e.getState() == LifecycleEvent.LifecycleState.MERGED) {
        // This member rejoined after a split: what it holds may be its side's, not the map's,
        // and it has a new member UUID to advertise its address under.
        reloadLater("this member merged back into the cluster");
        readvertiseLater();
      }
    });
    synchronized (reloading) {
      holdEvents();
      entryListener = map.addEntryListener(new Entries(), true);
      reloadHeld();
    }
  }

  /**
   * Reloads the whole map now, as a member does after another leaves: for an operator who
   * suspects this member missed events (Hazelcast drops events when a member's event queue is
   * full, and events of a crashed member's partitions may be lost). Changes that arrive meanwhile
   * are applied after it, in order.
   */
  public void reload() {
    requireOpen();
    synchronized (reloading) {
      holdEvents();
      reloadHeld();
    }
  }

  /** This member's local service: make its endpoint the server's root, as with one origin. */
  public PublishingService service() {
    return service;
  }

  /** The cluster's proven server id: the same on every member. */
  public String serverId() {
    return service.serverId();
  }

  /**
   * Publishes {@code state} under {@code identity}, or replaces its state whole; nothing if the
   * cluster holds this state already.
   *
   * @param state a registered value or a {@code byte[]}, as {@link Publishable#publishedState}
   *     returns
   * @throws IllegalArgumentException if the state does not encode (the message names its class)
   *     or encodes to more than {@link Builder#maxStateBytes}
   */
  public void publish(String identity, Object state) {
    requireOpen();
    checkIdentity(identity);
    byte[] encoded = encode(identity, "state", state);
    long version = ClusterRecord.versionOf(identity, encoded);
    write(identity, current -> current != null && current.version() == version ? null
        : ClusterRecord.whole(0, version, encoded));
  }

  /**
   * Publishes or replaces many states at once: every state is encoded (and refused, naming its
   * identity) before any is written; each is then written as {@link #publish} does.
   */
  public void publishAll(Map<String, ?> states) {
    requireOpen();
    Objects.requireNonNull(states, "states");
    Map<String, byte[]> encoded = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : states.entrySet()) {
      checkIdentity(e.getKey());
      encoded.put(e.getKey(), encode(e.getKey(), "state", e.getValue()));
    }
    for (Map.Entry<String, byte[]> e : encoded.entrySet()) {
      long version = ClusterRecord.versionOf(e.getKey(), e.getValue());
      write(e.getKey(), current -> current != null && current.version() == version ? null
          : ClusterRecord.whole(0, version, e.getValue()));
    }
  }

  /**
   * Replaces the state of {@code identity} by {@code newState}, which the delta {@code
   * method(args)} makes of the old one: observers holding the old version get the delta. Nothing
   * if {@code newState} is the state the cluster holds. The delta applies to the version the
   * cluster holds when it is written: where another member may change the object meanwhile, use
   * {@link #deltaFrom}, which writes only on top of the version {@code newState} was made from.
   *
   * @throws IllegalStateException if the cluster does not publish {@code identity}
   * @throws IllegalArgumentException if the state or the arguments do not encode, or encode to
   *     more than {@link Builder#maxStateBytes}
   */
  public void delta(String identity, Object newState, String method, Object... args) {
    requireOpen();
    checkIdentity(identity);
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(args, "args");
    checkMethod(method);
    byte[] state = encode(identity, "state", newState);
    byte[] encodedArgs =
        encode(identity, "delta arguments", Arrays.copyOf(args, args.length, Object[].class));
    long version = ClusterRecord.versionOf(identity, state);
    write(identity, current -> {
      if (current == null) {
        throw notPublished(identity, method);
      }
      return current.version() == version ? null
          : ClusterRecord.delta(0, version, current.version(), method, encodedArgs, state);
    });
  }

  /**
   * {@link #delta(String, Object, String, Object...)} only if the cluster still holds {@code
   * previousVersion}, the version of the state {@code newState} was made from: the form to use
   * when several members may change one object at once. {@link #delta(String, Object, String,
   * Object...)} applies the delta to whatever version the cluster holds when it writes, which
   * gives clients the wrong state if another write came between reading the state and writing
   * the delta.
   *
   * @return true if it wrote the delta or the cluster holds {@code newState} already; false if
   *     the cluster's version is no longer {@code previousVersion} (read it again and retry)
   * @throws IllegalStateException if the cluster does not publish {@code identity}
   */
  public boolean deltaFrom(
      String identity, long previousVersion, Object newState, String method, Object... args) {
    requireOpen();
    checkIdentity(identity);
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(args, "args");
    checkMethod(method);
    byte[] state = encode(identity, "state", newState);
    byte[] encodedArgs =
        encode(identity, "delta arguments", Arrays.copyOf(args, args.length, Object[].class));
    long version = ClusterRecord.versionOf(identity, state);
    boolean[] stale = new boolean[1];
    write(identity, current -> {
      if (current == null) {
        throw notPublished(identity, method);
      }
      if (current.version() == version) {
        return null;
      }
      if (current.version() != previousVersion) {
        stale[0] = true;
        return null;
      }
      return ClusterRecord.delta(0, version, previousVersion, method, encodedArgs, state);
    });
    return !stale[0];
  }

  private IllegalStateException notPublished(String identity, String method) {
    return new IllegalStateException("ClusterPublishing.delta(" + identity + ", ..., " + method
        + "): the cluster does not publish " + identity + " in service " + serviceName
        + "; publish it first");
  }

  private static void checkMethod(String method) {
    if (method.isEmpty()
        || method.getBytes(java.nio.charset.StandardCharsets.UTF_8).length
            > ClusterRecord.MAX_METHOD_BYTES) {
      throw new IllegalArgumentException("ClusterPublishing.delta: the method name must have 1 to "
          + ClusterRecord.MAX_METHOD_BYTES + " bytes in UTF-8");
    }
  }

  /** Unpublishes {@code identity} on every member; false if it was not published. */
  public boolean unpublish(String identity) {
    requireOpen();
    checkIdentity(identity);
    while (true) {
      byte[] current = map.get(identity);
      if (current == null) {
        return false;
      }
      if (map.remove(identity, current)) {
        return true;
      }
    }
  }

  /**
   * The cluster's current state of {@code identity}.
   *
   * @throws IllegalStateException if the map holds a record of it that cannot be read
   */
  public Optional<Object> state(String identity) {
    checkIdentity(identity);
    byte[] bytes = map.get(identity);
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      ClusterRecord r = ClusterRecord.decode(bytes, maxStateBytes);
      return Optional.ofNullable(codec.decode(r.state(), Object.class));
    } catch (RuntimeException e) {
      throw new IllegalStateException("the cluster map " + map.getName() + " holds a bad record"
          + " for " + identity + ": " + e.getMessage(), e);
    }
  }

  /**
   * The cluster's current version of {@code identity}, if it publishes it.
   *
   * @throws IllegalStateException if the map holds a record of it that cannot be read
   */
  public Optional<Long> version(String identity) {
    checkIdentity(identity);
    byte[] bytes = map.get(identity);
    if (bytes == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(ClusterRecord.decode(bytes, maxStateBytes).version());
    } catch (IllegalArgumentException e) {
      throw new IllegalStateException("the cluster map " + map.getName() + " holds a bad record"
          + " for " + identity + ": " + e.getMessage(), e);
    }
  }

  /** Number of objects the cluster publishes. */
  public int size() {
    return map.size();
  }

  /**
   * Tells the cluster where clients reach this member ({@code host:port}); replaces what this
   * member advertised before. The address is withdrawn when this member leaves or closes.
   *
   * @throws IllegalArgumentException for an empty or malformed host or a port outside 1-65535
   */
  public void advertise(String host, int port) {
    requireOpen();
    Objects.requireNonNull(host, "host");
    String h = host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
    String address = h + ":" + port;
    if (port < 1 || port > 65535 || !isAddress(address)) {
      throw new IllegalArgumentException("ClusterPublishing.advertise: '" + host + "' port " + port
          + " is not a host name or IP address and a port from 1 to 65535");
    }
    synchronized (advertising) {
      String key = memberKey(hazelcast.getCluster().getLocalMember().getUuid());
      cluster.put(key, address);
      String old = advertisedKey;
      advertisedKey = key;
      advertisedAddress = address;
      if (old != null && !old.equals(key)) {
        cluster.remove(old);
      }
    }
  }

  private void readvertiseLater() {
    String address = advertisedAddress;
    if (address == null || closed) {
      return;
    }
    try {
      background.execute(() -> {
        try {
          synchronized (advertising) {
            if (!closed && address.equals(advertisedAddress)) {
              String key = memberKey(hazelcast.getCluster().getLocalMember().getUuid());
              cluster.put(key, address);
              String old = advertisedKey;
              advertisedKey = key;
              if (old != null && !old.equals(key)) {
                cluster.remove(old);
              }
            }
          }
        } catch (RuntimeException e) {
          log.warn("service {}: advertising {} again after a merge failed: {}", serviceName,
              address, e.toString());
        }
      });
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  /** Whether clients can dial {@code address}: what {@link PbClient#parseAddress} accepts. */
  private static boolean isAddress(String address) {
    try {
      PbClient.parseAddress(address);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The addresses ({@code host:port}) of the live members that advertised one, sorted, at most
   * {@value #MAX_MEMBERS}. A member that left is never listed, even before its entry is removed.
   */
  public List<String> members() {
    Set<String> keys = new HashSet<>();
    for (Member m : hazelcast.getCluster().getMembers()) {
      keys.add(memberKey(m.getUuid()));
    }
    List<String> out = new ArrayList<>();
    // Any program in the cluster may write the map: an entry that is not a string is left out.
    for (Object value : ((IMap<String, ?>) cluster).getAll(keys).values()) {
      if (value instanceof String address && isAddress(address)) {
        out.add(address);
      }
    }
    out.sort(null);
    return out.size() > MAX_MEMBERS ? List.copyOf(out.subList(0, MAX_MEMBERS)) : List.copyOf(out);
  }

  /**
   * Leaves: stops following the map and withdraws this member's address. Neither shuts the
   * Hazelcast member down (the caller's) nor stops the server that serves {@link #service()}.
   * Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    background.shutdownNow();
    try {
      if (entryListener != null) {
        map.removeEntryListener(entryListener);
      }
      if (membershipListener != null) {
        hazelcast.getCluster().removeMembershipListener(membershipListener);
      }
      if (lifecycleListener != null) {
        hazelcast.getLifecycleService().removeLifecycleListener(lifecycleListener);
      }
      String key = advertisedKey;
      if (key != null) {
        cluster.remove(key);
      }
    } catch (RuntimeException e) {
      // The Hazelcast member was shut down first: its listeners and entries went with it.
      log.debug("closing service {}: {}", serviceName, e.toString());
    }
  }

  @Override
  public String toString() {
    return "ClusterPublishing[" + serviceName + ", " + service.serverId() + "]";
  }

  // --- writing the map ------------------------------------------------------------------------

  /**
   * Writes the record {@code change} makes of the current one (null: nothing to write), with the
   * next seq, by compare-and-set; re-reads and retries when another write came first. Returns
   * whether it wrote.
   */
  private boolean write(String identity, Function<ClusterRecord, ClusterRecord> change) {
    while (true) {
      byte[] currentBytes = map.get(identity);
      ClusterRecord current = null;
      long seq = 0;
      if (currentBytes != null) {
        try {
          current = ClusterRecord.decode(currentBytes, maxStateBytes);
          seq = current.seq();
        } catch (IllegalArgumentException e) {
          // Overwritten whole (a delta finds nothing to apply to); the seq continues from what
          // this member last applied, as the bad record's cannot be known.
          log.warn("cluster map {}: overwriting the unreadable record of {}: {}", map.getName(),
              identity, e.getMessage());
          seq = seqs.getOrDefault(identity, 0L);
        }
      }
      ClusterRecord next = change.apply(current);
      if (next == null) {
        return false;
      }
      byte[] nextBytes = next.withSeq(seq + 1).encode();
      boolean written = currentBytes == null ? map.putIfAbsent(identity, nextBytes) == null
          : map.replace(identity, currentBytes, nextBytes);
      if (written) {
        return true;
      }
    }
  }

  private byte[] encode(String identity, String what, Object value) {
    if (value == null) {
      throw new IllegalArgumentException(
          "ClusterPublishing: the " + what + " of " + identity + " is null");
    }
    try {
      return codec.encode(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("ClusterPublishing: the " + what + " of " + identity
          + " (" + value.getClass().getName() + ") cannot be written to the cluster map (limit"
          + " maxStateBytes = " + maxStateBytes + "): " + e.getMessage(), e);
    }
  }

  // --- applying the map -----------------------------------------------------------------------

  /** An entry event: applied now, or held while a reload runs. */
  private void onChange(Change change) {
    applying.readLock().lock();
    try {
      if (closed) {
        return;
      }
      if (holding) {
        held.add(change);
      } else {
        apply(change);
      }
    } finally {
      applying.readLock().unlock();
    }
  }

  private void holdEvents() {
    applying.writeLock().lock();
    try {
      holding = true;
    } finally {
      applying.writeLock().unlock();
    }
  }

  /**
   * Loads the whole map, then applies the events held meanwhile in their order, and stops
   * holding. Events are held from before the map is read, so whatever the map read missed comes
   * after it; applying the map's records regardless of seq is safe, since each is at least as new
   * as anything this member applied before holding began.
   */
  private void reloadHeld() {
    Map<String, byte[]> snapshot = null;
    RuntimeException failure = null;
    try {
      snapshot = new HashMap<>();
      for (Map.Entry<String, byte[]> e : map.entrySet()) {
        snapshot.put(e.getKey(), e.getValue());
      }
    } catch (RuntimeException e) {
      failure = e;
    }
    Map<String, byte[]> loaded = failure == null ? snapshot : null;
    applying.writeLock().lock();
    try {
      service.batch(() -> {
        if (loaded != null) {
          for (String identity : new ArrayList<>(seqs.keySet())) {
            if (!loaded.containsKey(identity)) {
              unpublishLocal(identity);
            }
          }
          for (Map.Entry<String, byte[]> e : loaded.entrySet()) {
            apply(new Change(Kind.LOADED, e.getKey(), e.getValue()));
          }
        }
        for (Change c = held.poll(); c != null; c = held.poll()) {
          apply(c);
        }
      });
      holding = false;
    } finally {
      applying.writeLock().unlock();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Reloads on the background thread (after a member left, or the map was cleared). */
  private void reloadLater(String why) {
    if (closed) {
      return;
    }
    try {
      background.execute(() -> {
        if (closed) {
          return;
        }
        log.debug("service {}: reloading the cluster map ({})", serviceName, why);
        try {
          synchronized (reloading) {
            holdEvents();
            reloadHeld();
          }
        } catch (RuntimeException e) {
          log.warn("service {}: reloading the cluster map ({}) failed: {}", serviceName, why,
              e.toString());
        }
      });
    } catch (RejectedExecutionException e) {
      // closed meanwhile
    }
  }

  private void apply(Change c) {
    try {
      switch (c.kind()) {
        case REMOVE -> unpublishLocal(c.identity());
        case UPSERT, MERGE, LOADED -> {
          if (c.value() == null) {
            unpublishLocal(c.identity());
            return;
          }
          ClusterRecord r = readable(c.identity(), c.value());
          if (r != null) {
            applyRecord(c.identity(), r, c.kind() != Kind.UPSERT);
          }
        }
      }
    } catch (PbException | IllegalArgumentException e) {
      // A state or arguments this registry cannot decode: the record is bad, not this member.
      log.warn("cluster map {}: the record of identity {} is skipped: {}", map.getName(),
          c.identity(), e.getMessage());
    } catch (RuntimeException e) {
      log.error("service {}: applying the cluster's change of {} failed; it is skipped: {}",
          serviceName, c.identity(), e.toString(), e);
    }
  }

  /** The record in {@code bytes}, or null (logged) when it cannot be read. */
  private ClusterRecord readable(String identity, byte[] bytes) {
    try {
      if (identity == null || identity.isEmpty()) {
        throw new IllegalArgumentException("the identity is empty");
      }
      if (identity.indexOf('\u0000') >= 0) {
        // published, it would fail every client's attach: their stores refuse such a key
        throw new IllegalArgumentException("the identity contains the NUL character");
      }
      return ClusterRecord.decode(bytes, maxStateBytes);
    } catch (IllegalArgumentException e) {
      log.warn("cluster map {}: the record of identity {} is skipped: {}", map.getName(), identity,
          e.getMessage());
      return null;
    }
  }

  /**
   * Makes the local object equal to {@code r}: creates and publishes it, or takes the state and
   * republishes it (as the delta when the local object holds the version the delta applies to).
   * Ignores a record not newer than the one applied last, unless {@code regardless}.
   */
  private void applyRecord(String identity, ClusterRecord r, boolean regardless) {
    Publishable local = service.get(identity).orElse(null);
    Long appliedSeq = seqs.get(identity);
    if (local != null && !regardless && appliedSeq != null && r.seq() <= appliedSeq) {
      return;
    }
    if (local == null) {
      Object state = decodeState(identity, r);
      Publishable made = factory.create(identity, r.version(), state);
      if (!(made instanceof ClusterObject)) {
        throw new IllegalStateException("ClusterPublishing.ObjectFactory made "
            + (made == null ? "null" : made.getClass().getName()) + " for " + identity
            + ": it must make a Publishable implementing ClusterPublishing.ClusterObject");
      }
      if (!made.identity().equals(identity) || made.version() != r.version()) {
        throw new IllegalStateException("ClusterPublishing.ObjectFactory made "
            + made.getClass().getName() + " " + made.identity() + " at version " + made.version()
            + " for " + identity + " at version " + r.version()
            + ": construct it with the identity and version given (Publishable(identity,"
            + " version))");
      }
      service.publish(made);
      seqs.put(identity, r.seq());
      return;
    }
    if (!(local instanceof ClusterObject object)) {
      throw new IllegalStateException("the local object of " + identity + " is a "
          + local.getClass().getName() + ", not a ClusterPublishing.ClusterObject: it was"
          + " published on the local service directly");
    }
    synchronized (local) {
      long localVersion = local.version();
      if (localVersion != r.version()) {
        Object state = decodeState(identity, r);
        if (r.delta() && r.previousVersion() == localVersion) {
          Object[] args = codec.decode(r.args(), Object[].class);
          object.takeClusterState(state);
          local.republishDelta(r.version(), r.method(), args);
        } else {
          object.takeClusterState(state);
          local.republish(r.version());
        }
      }
    }
    seqs.put(identity, r.seq());
  }

  private Object decodeState(String identity, ClusterRecord r) {
    Object state = codec.decode(r.state(), Object.class);
    if (state == null) {
      throw new IllegalArgumentException("the state of " + identity + " is null");
    }
    return state;
  }

  private void unpublishLocal(String identity) {
    if (seqs.remove(identity) != null || service.get(identity).isPresent()) {
      service.unpublish(identity);
    }
  }

  private String serverIdKey() {
    return "serverId/" + serviceName;
  }

  private String memberKey(UUID member) {
    return "member/" + serviceName + "/" + member;
  }

  private void requireOpen() {
    if (closed) {
      throw new IllegalStateException("ClusterPublishing for service " + serviceName
          + " is closed");
    }
  }

  private static void checkIdentity(String identity) {
    Objects.requireNonNull(identity, "identity");
    if (identity.isEmpty()) {
      throw new IllegalArgumentException("ClusterPublishing: an identity must not be empty");
    }
  }

  /** The map's entry events, handed to {@link #onChange}. */
  private final class Entries implements EntryAddedListener<String, byte[]>,
      EntryUpdatedListener<String, byte[]>, EntryRemovedListener<String, byte[]>,
      EntryMergedListener<String, byte[]>, EntryEvictedListener<String, byte[]>,
      EntryExpiredListener<String, byte[]>, MapClearedListener, MapEvictedListener {
    @Override
    public void entryAdded(EntryEvent<String, byte[]> e) {
      onChange(new Change(Kind.UPSERT, e.getKey(), e.getValue()));
    }

    @Override
    public void entryUpdated(EntryEvent<String, byte[]> e) {
      onChange(new Change(Kind.UPSERT, e.getKey(), e.getValue()));
    }

    @Override
    public void entryRemoved(EntryEvent<String, byte[]> e) {
      onChange(new Change(Kind.REMOVE, e.getKey(), null));
    }

    @Override
    public void entryMerged(EntryEvent<String, byte[]> e) {
      onChange(new Change(Kind.MERGE, e.getKey(), e.getValue()));
    }

    @Override
    public void entryEvicted(EntryEvent<String, byte[]> e) {
      log.warn("cluster map {}: {} was evicted, so it is unpublished; configure no eviction for"
          + " this map", map.getName(), e.getKey());
      onChange(new Change(Kind.REMOVE, e.getKey(), null));
    }

    @Override
    public void entryExpired(EntryEvent<String, byte[]> e) {
      log.warn("cluster map {}: {} expired, so it is unpublished; configure no expiry for this"
          + " map", map.getName(), e.getKey());
      onChange(new Change(Kind.REMOVE, e.getKey(), null));
    }

    @Override
    public void mapCleared(MapEvent e) {
      reloadLater("the map was cleared");
    }

    @Override
    public void mapEvicted(MapEvent e) {
      reloadLater("the map was evicted");
    }
  }

  /** Withdraws a departed member's address and catches up on events lost with it. */
  private final class Members implements MembershipListener {
    @Override
    public void memberAdded(MembershipEvent e) {}

    @Override
    public void memberRemoved(MembershipEvent e) {
      String gone = memberKey(e.getMember().getUuid());
      if (closed) {
        return;
      }
      try {
        background.execute(() -> {
          try {
            cluster.remove(gone);
          } catch (RuntimeException ex) {
            log.debug("removing {}: {}", gone, ex.toString());
          }
        });
      } catch (RejectedExecutionException ex) {
        return;
      }
      reloadLater("member " + e.getMember().getUuid() + " left");
    }
  }

  /** Builds a {@link ClusterPublishing}. Thread-safety: not thread-safe; use on one thread. */
  public static final class Builder {
    private HazelcastInstance hazelcast;
    private PbRegistry registry;
    private ServerKey serverKey;
    private String service;
    private ObjectFactory factory;
    private Consumer<PublishingService.Builder> options;
    private Integer maxStateBytesOption;
    private int maxStateBytes;

    private Builder() {}

    /** The Hazelcast member this origin member runs in (the caller's: never shut down here). */
    public Builder hazelcast(HazelcastInstance hazelcast) {
      once("hazelcast", this.hazelcast);
      this.hazelcast = Objects.requireNonNull(hazelcast, "hazelcast");
      return this;
    }

    /** The registry whose codec encodes states and delta arguments in the map. */
    public Builder registry(PbRegistry registry) {
      once("registry", this.registry);
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The cluster's key: the same on every member, so every member proves the same id. The first
     * member to build a service records its id in the cluster ({@code pbj.cluster}), and a
     * member holding another key is refused at {@link #build()}; the record lasts as long as the
     * Hazelcast cluster does, so changing the key means restarting the whole cluster.
     */
    public Builder serverKey(ServerKey key) {
      once("serverKey", serverKey);
      serverKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /** The service name. */
    public Builder service(String name) {
      once("service", service);
      Objects.requireNonNull(name, "name");
      if (name.isEmpty() || name.indexOf('\u0000') >= 0 || name.indexOf('/') >= 0) {
        throw new IllegalArgumentException(
            "ClusterPublishing.Builder.service must be non-empty and free of NUL and '/'");
      }
      service = name;
      return this;
    }

    /** Makes local objects for the map's states. */
    public Builder objects(ObjectFactory factory) {
      once("objects", this.factory);
      this.factory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * More options for the local {@link PublishingService} (perspective keys, relays). The
     * server key and the service name are set already: setting them again fails.
     */
    public Builder configure(Consumer<PublishingService.Builder> options) {
      once("configure", this.options);
      this.options = Objects.requireNonNull(options, "options");
      return this;
    }

    /**
     * The largest encoded state, and the largest encoded delta arguments, written to or read
     * from the map (default {@link #DEFAULT_MAX_STATE_BYTES}): a bigger one is refused when
     * written and skipped, logged, when read.
     */
    public Builder maxStateBytes(int bytes) {
      once("maxStateBytes", maxStateBytesOption);
      if (bytes < 1) {
        throw new IllegalArgumentException(
            "ClusterPublishing.Builder.maxStateBytes must be positive, got " + bytes);
      }
      maxStateBytesOption = bytes;
      return this;
    }

    /**
     * Joins the cluster's map and loads what it holds.
     *
     * @throws IllegalStateException if an option is missing, or the cluster's server id for this
     *     service is another key's (every member must use the same key)
     */
    public ClusterPublishing build() {
      require("hazelcast", hazelcast);
      require("registry", registry);
      require("serverKey", serverKey);
      require("service", service);
      require("objects", factory);
      maxStateBytes = maxStateBytesOption == null ? DEFAULT_MAX_STATE_BYTES : maxStateBytesOption;
      ClusterPublishing c = new ClusterPublishing(this);
      try {
        c.start();
      } catch (RuntimeException e) {
        c.close();
        throw e;
      }
      return c;
    }

    private static void once(String option, Object current) {
      if (current != null) {
        throw new IllegalStateException("ClusterPublishing.Builder." + option
            + " was already set");
      }
    }

    private static void require(String option, Object value) {
      if (value == null) {
        throw new IllegalStateException("ClusterPublishing.Builder needs " + option);
      }
    }
  }
}
