package io.pbj.publish;

import io.pbj.PbConnection;
import io.pbj.Referenceable;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.WireState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The server side of publishing: a named service of {@link Publishable} objects offered by a
 * server with a stable id, and the endpoint through which clients attach to it.
 *
 * <p>The server id goes into every client's store key: it must name the <em>origin</em> server
 * stably (configured, or its TLS certificate fingerprint, {@code PbServer.tlsFingerprint()}),
 * never a socket address, so that a restarted server keeps its clients' caches and two servers
 * never share entries.
 *
 * <pre>{@code
 * PublishingService world = PublishingService.builder()
 *     .serverId("world-eu-1")
 *     .service("world")
 *     .perspectiveKey(p -> ((Player) p).name())     // only needed with logged-in perspectives
 *     .build();
 * world.publish(new Tile("tile-0-0", "grass", 1));
 * PbServer server = PbServer.builder().port(7000).registry(registry)
 *     .rootFactory(world::endpoint)      // or return world.endpoint(connection) from your realm
 *     .build().start();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; objects may be published and unpublished while clients attach.
 */
public final class PublishingService {
  /** The perspective key of a connection that did not log in. */
  public static final String ANONYMOUS = "anonymous";

  /**
   * What every logged-in perspective's key starts with ({@link #loggedInKey}), so that no name a
   * {@code perspectiveKey} function gives, {@code "anonymous"} included, is ever the key of a
   * connection that did not log in.
   */
  public static final String LOGGED_IN_PREFIX = "user:";

  /**
   * The perspective key under which a server names a logged-in perspective that its {@code
   * perspectiveKey} function calls {@code name}: {@value #LOGGED_IN_PREFIX} followed by the name.
   * Different names give different keys, and none is {@value #ANONYMOUS}. A client that logs in
   * passes it to {@link PublishedClient.Builder#perspectiveKey}.
   */
  public static String loggedInKey(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a logged-in perspective's name must not be empty");
    }
    return LOGGED_IN_PREFIX + name;
  }

  private final String serverId;
  private final String service;
  private final Function<Object, String> perspectiveKey;
  private final String fixedPerspectiveKey;
  private final VersionCounter versions;
  private final ConcurrentSkipListMap<String, Publishable> objects = new ConcurrentSkipListMap<>();
  private final Map<PbConnection, Inventory> inventories = new ConcurrentHashMap<>();

  /** {@link #sendModeFor}: send the whole state. */
  static final int FULL = -2;

  /** {@link #sendModeFor}: send the version only (versions mode). */
  static final int VERSION_ONLY = -1;

  /**
   * What one connection's attach call said it holds: identity to its position in the call's
   * arrays; entries are consumed as states are sent.
   */
  private static final class Inventory {
    final long[] versions;
    final Map<String, Integer> positions;
    /** States of the attach answer not yet taken; at 0 the inventory is dropped. */
    final AtomicInteger unsent;

    Inventory(String[] identities, long[] versions, int answered) {
      this.versions = versions;
      this.unsent = new AtomicInteger(answered);
      if (identities == null) {
        positions = null;
      } else {
        positions = new ConcurrentHashMap<>(identities.length * 2);
        for (int i = 0; i < identities.length; i++) {
          if (identities[i] != null) {
            positions.put(identities[i], i);
          }
        }
      }
    }
  }

  private PublishingService(Builder b) {
    this.serverId = b.serverId;
    this.service = b.service;
    this.perspectiveKey = b.perspectiveKey;
    this.fixedPerspectiveKey = b.fixedPerspectiveKey;
    this.versions = b.versions;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The stable id of the origin server, as it appears in clients' store keys. */
  public String serverId() {
    return serverId;
  }

  /** The service name. */
  public String service() {
    return service;
  }

  /**
   * Publishes objects: clients attaching from now on receive them. An object without a version
   * gets one from this service's counter.
   *
   * @throws IllegalArgumentException if another object already has one of their identities
   */
  public void publish(Publishable... published) {
    for (Publishable p : published) {
      Objects.requireNonNull(p, "published");
      p.attachTo(this);
      Publishable old = objects.putIfAbsent(p.identity(), p);
      if (old != null && old != p) {
        throw new IllegalArgumentException(
            "service " + service + " already publishes identity " + p.identity());
      }
    }
  }

  /** Publishes every object of {@code published}. */
  public void publishAll(Collection<? extends Publishable> published) {
    publish(published.toArray(new Publishable[0]));
  }

  /** Stops offering the object with {@code identity} to new attaches. */
  public Optional<Publishable> unpublish(String identity) {
    return Optional.ofNullable(objects.remove(identity));
  }

  /** The published object with {@code identity}. */
  public Optional<Publishable> get(String identity) {
    return Optional.ofNullable(objects.get(identity));
  }

  /** Number of published objects. */
  public int size() {
    return objects.size();
  }

  /**
   * The remote object {@code connection}'s client attaches through ({@link
   * PublishedClient#attach}): make it the connection's root ({@code rootFactory(service::endpoint)})
   * or return it from your root or avatar (a {@code Realm} is given the connection). An endpoint
   * answers only on its own connection, because the server remembers per connection which
   * versions the client said it holds.
   */
  public Referenceable endpoint(PbConnection connection) {
    Objects.requireNonNull(connection, "connection");
    connection.onClose(cause -> inventories.remove(connection));
    return new Endpoint(connection);
  }

  /** A version no run of this service assigned before (see {@link VersionCounter}). */
  long nextVersion() {
    return versions.next();
  }

  String perspectiveKeyOf(Object perspective) {
    if (fixedPerspectiveKey != null) {
      return fixedPerspectiveKey;
    }
    if (perspective == null) {
      return ANONYMOUS;
    }
    String name = perspectiveKey.apply(perspective);
    if (name == null || name.isEmpty()) {
      throw new IllegalStateException(
          "PublishingService " + service + ": perspectiveKey gave no key for a "
              + perspective.getClass().getName());
    }
    return loggedInKey(name);
  }

  /**
   * Called by {@link Publishable#stateFor} for a connection's first copy of an object: {@link
   * #FULL}, {@link #VERSION_ONLY}, or the position in the connection's inventory of the entry
   * that holds the current version.
   */
  int sendModeFor(PbConnection connection, String identity, long version, boolean resend) {
    Inventory inv = inventories.get(connection);
    if (inv == null) {
      return FULL;
    }
    if (inv.unsent.decrementAndGet() <= 0) {
      // The attach answer is encoded: a Publishable sent later on this connection goes in full.
      inventories.remove(connection, inv);
    }
    if (resend) {
      return FULL;
    }
    if (inv.positions == null) {
      return VERSION_ONLY;
    }
    Integer at = inv.positions.remove(identity);
    return at != null && inv.versions[at] == version ? at : FULL;
  }

  /**
   * The remote face of the service. Public methods are reachable only through {@code @Remote}.
   * A {@link io.pbj.Viewable}, so each call knows the caller's perspective.
   */
  final class Endpoint implements io.pbj.Viewable {
    private final PbConnection connection;

    Endpoint(PbConnection connection) {
      this.connection = connection;
    }

    /**
     * Attaches the caller: answers the published objects ({@code only} those identities when it
     * is non-null; unknown ones are left out), each sent in full unless the caller's inventory
     * says it holds the same version ({@code identities}/{@code versions} non-null, inventory
     * mode) or unless no inventory is given (versions mode: versions only).
     */
    @io.pbj.Remote
    public AttachReply attach(
        Object perspective,
        String expectedServerId,
        String expectedService,
        String claimedPerspectiveKey,
        String[] identities,
        long[] versions,
        String[] only) {
      String key = perspectiveKeyOf(perspective);
      if ((expectedServerId != null && !expectedServerId.equals(serverId))
          || !service.equals(expectedService)) {
        return new AttachReply(serverId, service, key, false, List.of());
      }
      boolean inventoryMode = identities != null && versions != null;
      boolean inventoryUsed = inventoryMode && key.equals(claimedPerspectiveKey)
          && expectedServerId != null && identities.length == versions.length;
      List<Object> answered;
      if (only == null) {
        answered = new ArrayList<>(objects.values());
      } else {
        answered = new ArrayList<>(only.length);
        for (String id : only) {
          Publishable p = id == null ? null : objects.get(id);
          if (p != null) {
            answered.add(p);
          }
        }
      }
      Inventory inv;
      if (inventoryUsed) {
        inv = new Inventory(identities, versions, answered.size());
      } else if (inventoryMode) {
        inv = null;    // the inventory is for another key: send everything in full
      } else {
        inv = new Inventory(null, null, answered.size());
      }
      if (answered.isEmpty()) {
        inv = null;
      }
      if (inv == null) {
        inventories.remove(connection);
      } else {
        inventories.put(connection, inv);
        if (!connection.isOpen()) {
          inventories.remove(connection);   // closed meanwhile: its onClose may have run already
        }
      }
      return new AttachReply(serverId, service, key, inventoryUsed, answered);
    }

    /** The full states of {@code identities}, in order; null for an identity not published. */
    @io.pbj.Remote
    public List<Object> fetch(Object perspective, String[] identities) {
      List<Object> states = new ArrayList<>(identities.length);
      for (String id : identities) {
        Publishable p = id == null ? null : objects.get(id);
        states.add(p == null ? null : p.fetchState(perspective));
      }
      return states;
    }
  }

  /** Builds a {@link PublishingService}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private String serverId;
    private String service;
    private Function<Object, String> perspectiveKey;
    private String fixedPerspectiveKey;
    private Long firstVersion;
    private java.nio.file.Path versionEpochFile;
    private VersionCounter versions;

    private Builder() {}

    /** The origin server's stable id (required; not a socket address). */
    public Builder serverId(String id) {
      once("serverId", serverId);
      serverId = requirePart("serverId", id);
      return this;
    }

    /** The service name (required). */
    public Builder service(String name) {
      once("service", service);
      service = requirePart("service", name);
      return this;
    }

    /**
     * Names a logged-in perspective in clients' store keys (state may differ per perspective, so
     * each perspective has its own entries). Must be stable across sessions and different for
     * different perspectives, e.g. the user name ({@code AvatarId.anonymous()} tells an anonymous
     * login from a user named "anonymous"). The key is {@link #loggedInKey loggedInKey(name)}, so
     * a logged-in perspective never shares entries with a connection that did not log in, which
     * is {@value #ANONYMOUS}. A logged-in perspective without this function fails the attach,
     * naming its class.
     */
    public Builder perspectiveKey(Function<Object, String> function) {
      once("perspectiveKey", perspectiveKey);
      perspectiveKey = Objects.requireNonNull(function, "perspectiveKey");
      return this;
    }

    /**
     * Names every connection, logged in or not, {@code key} in clients' store keys: for a service
     * whose state does not depend on the perspective, such as a {@link Relay} re-serving what one
     * upstream perspective sees. Conflicts with {@link #perspectiveKey}.
     */
    public Builder fixedPerspectiveKey(String key) {
      once("fixedPerspectiveKey", fixedPerspectiveKey);
      fixedPerspectiveKey = requirePart("fixedPerspectiveKey", key);
      return this;
    }

    /**
     * The first version the service's counter assigns, then one more each time: for tests, or a
     * server that persists its counter itself and starts each run past every version it ever
     * assigned. Conflicts with {@link #versionEpochFile}. Default: a counter that starts at a
     * random 64-bit value, so that no two runs assign the same version however quickly one
     * follows the other (see {@link Publishable}).
     */
    public Builder firstVersion(long version) {
      once("firstVersion", firstVersion);
      firstVersion = version;
      return this;
    }

    /**
     * Keeps an epoch in {@code file} so that assigned versions are unique across restarts by
     * construction rather than by chance: {@link #build()} reads the last epoch, takes the next
     * and writes it back (forced to disk) before any version is assigned; versions are {@code
     * epoch << 32 | counter}, and a run that assigns 2^32 - 1 versions takes another epoch. The
     * file is created when missing; one service uses it at a time; a file that is not an epoch
     * file is refused at {@code build()}, naming the problem. Conflicts with {@link
     * #firstVersion}.
     */
    public Builder versionEpochFile(java.nio.file.Path file) {
      once("versionEpochFile", versionEpochFile);
      versionEpochFile = Objects.requireNonNull(file, "file");
      return this;
    }

    public PublishingService build() {
      if (serverId == null) {
        throw new IllegalStateException("PublishingService.Builder needs a serverId");
      }
      if (service == null) {
        throw new IllegalStateException("PublishingService.Builder needs a service");
      }
      if (perspectiveKey != null && fixedPerspectiveKey != null) {
        throw new IllegalStateException(
            "PublishingService.Builder: perspectiveKey and fixedPerspectiveKey conflict; set one");
      }
      if (firstVersion != null && versionEpochFile != null) {
        throw new IllegalStateException(
            "PublishingService.Builder: firstVersion and versionEpochFile conflict; set one");
      }
      if (perspectiveKey == null) {
        perspectiveKey = p -> {
          throw new IllegalStateException(
              "PublishingService: a logged-in perspective (" + p.getClass().getName()
                  + ") needs PublishingService.Builder.perspectiveKey to name it in store keys");
        };
      }
      versions = firstVersion != null ? VersionCounter.startingAt(firstVersion)
          : versionEpochFile != null
              ? VersionCounter.persisted(versionEpochFile, VersionCounter.COUNTER_BITS)
              : VersionCounter.random();
      return new PublishingService(this);
    }

    private static void once(String option, Object current) {
      if (current != null) {
        throw new IllegalStateException("PublishingService.Builder." + option + " was already set");
      }
    }

    private static String requirePart(String option, String value) {
      Objects.requireNonNull(value, option);
      if (value.isEmpty() || value.indexOf('\u0000') >= 0) {
        throw new IllegalArgumentException(
            "PublishingService.Builder." + option + " must be non-empty and free of NUL");
      }
      return value;
    }
  }
}
