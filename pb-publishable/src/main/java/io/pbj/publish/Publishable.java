package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.RemoteObserver;
import io.pbj.publish.internal.EncodedState;
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
  /** The service it was last published in, kept after it is unpublished. */
  @GuardedBy("this")
  private PublishingService lastService;
  /** The class of the last state taken, so a version-only send knows its format. */
  @GuardedBy("this")
  private Class<?> stateClass;
  /** The last value encoded for observers without a perspective, at {@link #encodedRevision}. */
  @GuardedBy("this")
  private EncodedState encoded;
  @GuardedBy("this")
  private io.pbj.PbCodec encodedCodec;
  @GuardedBy("this")
  private long encodedRevision = -1;

  /**
   * An object whose version the service assigns when it is published.
   *
   * @throws IllegalArgumentException if {@code identity} contains the NUL character
   */
  protected Publishable(String identity) {
    this.identity = Objects.requireNonNull(identity, "identity");
    if (identity.indexOf('\u0000') >= 0) {
      // Clients' stores key snapshots by identity with NUL as the separator: such an object
      // would fail every client's attach, not only its own.
      throw new IllegalArgumentException("a published identity must not contain the NUL character: "
          + identity.replace('\u0000', '?'));
    }
  }

  /** An object with an application-supplied version. */
  protected Publishable(String identity, long version) {
    this(identity);
    this.version = version;
    this.versionAssigned = true;
  }

  /**
   * The state this perspective sees ({@code perspective} is the avatar the connection logged in
   * as, or null): either the application's own encoding as a {@code byte[]}, received by {@link
   * RemotePublished#applyPublishedState}, or a registered value (a record registered with {@link
   * io.pbj.PbRegistry.Builder#register}), received by a {@link RemoteValue} and kept in clients'
   * stores in pb-core's encoding ({@link io.pbj.PbCodec}). Called with this object's lock held;
   * must not block.
   */
  protected abstract Object publishedState(Object perspective);

  /**
   * The version of the encoding of the state; a client only uses a stored snapshot of the same
   * format. Default {@link #DERIVED_FORMAT}: 1 for a {@code byte[]} state, and for a registered
   * value the fingerprint of its class's shape as the registry sees it ({@link
   * io.pbj.PbCodec#formatOf}), so a record whose components change is a different format and an
   * old snapshot is never decoded as the new shape. Override it to version the encoding yourself.
   */
  protected int formatVersion() {
    return DERIVED_FORMAT;
  }

  /** {@link #formatVersion()}: derive the format from the state (see there). */
  public static final int DERIVED_FORMAT = 0;

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
    republish(serviceVersion("republish()"));
  }

  /**
   * Sets an application-supplied version and pushes the new state to every current observer.
   *
   * @throws IllegalArgumentException if {@code newVersion} equals the current version (clients
   *     could not tell the new state from the old)
   */
  public final synchronized void republish(long newVersion) {
    newVersion(newVersion, "republish");
    Map<Object, Object> byPerspective = new IdentityHashMap<>();
    Object nullPerspective = null;
    for (RemoteObserver o : observers) {
      if (!o.isObserving()) {
        observers.remove(o);
        continue;
      }
      Object p = o.perspective();
      Object state;
      if (p == null) {
        if (nullPerspective == null) {
          nullPerspective = takeState(null);
        }
        state = nullPerspective;
      } else {
        state = byPerspective.computeIfAbsent(p, this::takeState);
      }
      o.callRemote(RemotePublished.PUSH_METHOD, identity, version, revision,
          format(state, o.connection()), wire(p, state, o.connection()));
    }
  }

  /**
   * Pushes a change as a <em>delta</em> rather than the whole state, with a version assigned by
   * the service: every observer's {@link RemotePublished} runs its {@link io.pbj.Remote @Remote}
   * method {@code method} with {@code args} (registered values), on top of the state it holds,
   * and stores the result at the new version, so a small change costs a small message. Change
   * this object's own state first, under its lock, so that a client that attaches later gets the
   * same result as a whole state. A client that misses deltas (it was away) catches up through
   * its next attach, whose version differs. A delta is the same for every perspective: where
   * perspectives see different states, push the change with {@link #republish()} instead.
   *
   * <pre>{@code
   * synchronized void setTile(int index, byte terrain) {
   *   tiles[index] = terrain;
   *   republishDelta("setTile", index, terrain);     // RemoteChunk.setTile(int, byte) runs
   * }
   * }</pre>
   *
   * @throws IllegalStateException if the object is not published in a service
   */
  public final synchronized void republishDelta(String method, Object... args) {
    republishDelta(serviceVersion("republishDelta(method, args)"), method, args);
  }

  /**
   * {@link #republishDelta(String, Object...)} with an application-supplied version.
   *
   * @throws IllegalArgumentException if {@code newVersion} equals the current version
   */
  public final synchronized void republishDelta(long newVersion, String method, Object... args) {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(args, "args");
    newVersion(newVersion, "republishDelta");
    for (RemoteObserver o : observers) {
      if (!o.isObserving()) {
        observers.remove(o);
        continue;
      }
      o.callRemote(RemotePublished.DELTA_METHOD, identity, version, revision, method, args);
    }
  }

  @GuardedBy("this")
  private long serviceVersion(String call) {
    if (service == null) {
      throw new IllegalStateException(
          "Publishable " + identity + " is not published: " + call + " needs a PublishingService"
              + " to assign its version; publish it first or pass the version");
    }
    return service.nextVersion();
  }

  @GuardedBy("this")
  private void newVersion(long newVersion, String call) {
    if (versionAssigned && newVersion == version) {
      throw new IllegalArgumentException(
          "Publishable " + identity + ": " + call + "(" + newVersion + ") must change the version");
    }
    version = newVersion;
    versionAssigned = true;
    revision++;
  }

  @Override
  public final synchronized Object stateFor(Object perspective, RemoteObserver observer) {
    boolean resend = !observers.add(observer);
    // The service it was last published in: an object unpublished while an answer or an
    // announcement that lists it is being encoded still goes (its unpublishing follows).
    PublishingService s = service != null ? service : lastService;
    int mode;
    if (s == null) {
      mode = resend ? PublishingService.FULL : PublishingService.REFUSED;
    } else {
      mode = s.sendModeFor(observer.connection(), identity, version, resend);
    }
    if (mode == PublishingService.REFUSED) {
      observers.remove(observer);
      throw new PublishException(PbException.Code.BAD_ARGUMENTS,
          "Publishable " + identity + " was sent outside an attach: published objects reach a"
              + " client only through PublishedClient.attach (or a pb:// reference, or a relay),"
              + " which activates them from its store; return its identity instead");
    }
    Object state = mode == PublishingService.FULL ? takeState(perspective) : null;
    int format = format(state != null ? state : stateSample(perspective), observer.connection());
    if (mode >= 0) {
      return new HeldState(mode, revision, format);
    }
    return new WireState(identity, version, revision, format,
        state == null ? null : wire(perspective, state, observer.connection()));
  }

  @Override
  public final void stoppedObserving(Object perspective, RemoteObserver observer) {
    observers.remove(observer);
  }

  /** The state for a batched fetch: the same as a full send, without becoming an observer. */
  final synchronized WireState fetchState(Object perspective, PbConnection connection) {
    Object state = takeState(perspective);
    return new WireState(identity, version, revision, format(state, connection),
        wire(perspective, state, connection));
  }

  /**
   * A state as it crosses the wire: bytes as they are; a registered value encoded with the
   * connection's codec, once per revision for every observer without a perspective (and once per
   * republish for each perspective), rather than once per observer inside each message.
   */
  @GuardedBy("this")
  private Object wire(Object perspective, Object state, PbConnection connection) {
    if (state instanceof byte[] || state instanceof EncodedState) {
      return state;
    }
    io.pbj.PbCodec codec = connection.codec();
    // One revision is one state (a change republishes under this object's lock), so the bytes
    // of this revision are the bytes of this state.
    if (perspective == null && encodedRevision == revision && encodedCodec == codec) {
      return encoded;
    }
    EncodedState e = new EncodedState(codec.encode(state));
    if (perspective == null) {
      encodedRevision = revision;
      encodedCodec = codec;
      encoded = e;
    }
    return e;
  }

  /** Stops pushing to the connections that observe it (it was unpublished). */
  final void forgetObservers() {
    observers.clear();
  }

  @GuardedBy("this")
  private Object takeState(Object perspective) {
    Object state = Objects.requireNonNull(publishedState(perspective),
        () -> getClass().getName() + ".publishedState returned null for " + identity);
    stateClass = state.getClass();
    return state;
  }

  /** A state whose class says what the format is (for a version-only send). */
  @GuardedBy("this")
  private Object stateSample(Object perspective) {
    if (formatVersion() != DERIVED_FORMAT) {
      return null;
    }
    return stateClass == byte[].class ? null : takeState(perspective);
  }

  /** The format of {@code state} on {@code connection}: see {@link #formatVersion()}. */
  private int format(Object state, PbConnection connection) {
    int f = formatVersion();
    if (f != DERIVED_FORMAT) {
      return f;
    }
    if (state == null || state instanceof byte[]) {
      return 1;
    }
    return connection.codec().formatOf(state.getClass());
  }

  final synchronized void attachTo(PublishingService s) {
    if (service != null && service != s) {
      throw new IllegalStateException(
          "Publishable " + identity + " is already published by service " + service.service());
    }
    service = s;
    lastService = s;
    if (!versionAssigned) {
      version = s.nextVersion();
      versionAssigned = true;
    }
  }

  /** It was unpublished: it may be published again, in this service or another. */
  final synchronized void detachFrom(PublishingService s) {
    if (service == s) {
      service = null;
    }
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + identity + " v" + version() + "]";
  }
}
