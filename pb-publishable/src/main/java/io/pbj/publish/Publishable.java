package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import io.pbj.RemoteObserver;
import io.pbj.publish.internal.HeldState;
import io.pbj.publish.internal.WireState;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link Cacheable} whose state clients keep in their local store across sessions, under a
 * published identity and a version.
 *
 * <p>The version is compared for equality only: it must change whenever the published state
 * changes, and should not change otherwise, including across a server restart with unchanged
 * objects. Supply it when the application has one (a database row version, a content hash):
 * {@link #Publishable(String, long)}, {@link #republish(long)}. Otherwise the {@link
 * PublishingService} assigns one when the object is published and on each {@link #republish()},
 * from a counter that starts at a random value when the service is built (or at an epoch kept in
 * a file: {@link PublishingService.Builder#versionEpochFile}), so that a restarted server never
 * assigns a version an earlier run assigned, however quickly it restarts and however many
 * versions the earlier run assigned; no clock is read. Every object's version changes across
 * such a restart, so clients refetch: supply versions when restarts should keep caches valid.
 *
 * <pre>{@code
 * final class Tile extends Publishable {
 *   private volatile String terrain;
 *
 *   Tile(String id, String terrain, long rowVersion) {
 *     super(id, rowVersion);
 *     this.terrain = terrain;
 *   }
 *
 *   protected byte[] publishedState(Object perspective) {
 *     return terrain.getBytes(StandardCharsets.UTF_8);
 *   }
 *
 *   void change(String terrain, long newRowVersion) {
 *     this.terrain = terrain;
 *     republish(newRowVersion);          // every observer gets the new state and version
 *   }
 * }
 * service.publish(new Tile("tile-0-0", "grass", 1));
 * }</pre>
 *
 * <p>The client registers a {@link RemotePublished} subclass for it ({@code
 * registry.registerCache(Tile.class, TileCache.class)}).
 *
 * <p>Thread-safety: thread-safe. {@link #publishedState} is called with this object's lock held,
 * from executor threads of any connection and from the thread that calls {@code republish}, so a
 * state change guarded by the same lock ({@code synchronized} on this object) is seen whole.
 */
public abstract class Publishable implements Cacheable {
  private final String identity;
  private final Set<RemoteObserver> observers = ConcurrentHashMap.newKeySet();
  @GuardedBy("this")
  private long version;
  @GuardedBy("this")
  private boolean versionAssigned;
  @GuardedBy("this")
  private long revision;
  @GuardedBy("this")
  private PublishingService service;

  /** An object whose version the service assigns when it is published. */
  protected Publishable(String identity) {
    this.identity = Objects.requireNonNull(identity, "identity");
  }

  /** An object with an application-supplied version. */
  protected Publishable(String identity, long version) {
    this(identity);
    this.version = version;
    this.versionAssigned = true;
  }

  /**
   * The encoded state this perspective sees ({@code perspective} is the avatar the connection
   * logged in as, or null). Called with this object's lock held; must not block.
   */
  protected abstract byte[] publishedState(Object perspective);

  /**
   * The version of the encoding {@link #publishedState} produces; a client only uses a stored
   * snapshot of the same format. Default 1.
   */
  protected int formatVersion() {
    return 1;
  }

  /** The published identity, unique within its service. */
  public final String identity() {
    return identity;
  }

  /** The current version. */
  public final synchronized long version() {
    return version;
  }

  /** Connections observing this object now. */
  public final int observerCount() {
    return observers.size();
  }

  /**
   * Assigns a new version from the service's counter and pushes the new state, with its version,
   * to every current observer (each in its own perspective). Call it after changing the state,
   * under the same lock if the change must not interleave with a state being taken.
   *
   * @throws IllegalStateException if the object is not published in a service
   */
  public final synchronized void republish() {
    if (service == null) {
      throw new IllegalStateException(
          "Publishable " + identity + " is not published: republish() needs a PublishingService"
              + " to assign its version; publish it first or call republish(version)");
    }
    republish(service.nextVersion());
  }

  /**
   * Sets an application-supplied version and pushes the new state to every current observer.
   *
   * @throws IllegalArgumentException if {@code newVersion} equals the current version (clients
   *     could not tell the new state from the old)
   */
  public final synchronized void republish(long newVersion) {
    if (versionAssigned && newVersion == version) {
      throw new IllegalArgumentException(
          "Publishable " + identity + ": republish(" + newVersion + ") must change the version");
    }
    version = newVersion;
    versionAssigned = true;
    revision++;
    int format = formatVersion();
    Map<Object, byte[]> byPerspective = new IdentityHashMap<>();
    byte[] nullPerspective = null;
    for (RemoteObserver o : observers) {
      if (!o.isObserving()) {
        observers.remove(o);
        continue;
      }
      Object p = o.perspective();
      byte[] state;
      if (p == null) {
        if (nullPerspective == null) {
          nullPerspective = publishedState(null);
        }
        state = nullPerspective;
      } else {
        state = byPerspective.computeIfAbsent(p, this::publishedState);
      }
      o.callRemote(RemotePublished.PUSH_METHOD, identity, version, revision, format, state);
    }
  }

  @Override
  public final synchronized Object stateFor(Object perspective, RemoteObserver observer) {
    boolean resend = !observers.add(observer);
    PublishingService s = service;
    int mode = s == null
        ? PublishingService.FULL
        : s.sendModeFor(observer.connection(), identity, version, resend);
    if (mode >= 0) {
      return new HeldState(mode, revision, formatVersion());
    }
    byte[] state = mode == PublishingService.FULL ? publishedState(perspective) : null;
    return new WireState(identity, version, revision, formatVersion(), state);
  }

  @Override
  public final void stoppedObserving(Object perspective, RemoteObserver observer) {
    observers.remove(observer);
  }

  /** The state for a batched fetch: the same as a full send, without becoming an observer. */
  final synchronized WireState fetchState(Object perspective) {
    return new WireState(identity, version, revision, formatVersion(), publishedState(perspective));
  }

  final synchronized void attachTo(PublishingService s) {
    if (service != null && service != s) {
      throw new IllegalStateException(
          "Publishable " + identity + " is already published by service " + service.service());
    }
    service = s;
    if (!versionAssigned) {
      version = s.nextVersion();
      versionAssigned = true;
    }
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + identity + " v" + version() + "]";
  }
}
