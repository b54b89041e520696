package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbException;
import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.publish.internal.HeldState;
import io.pbj.publish.internal.WireState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of a {@link Publishable}: a {@link RemoteCache} whose state comes from the local
 * {@link SnapshotStore} when the stored version is the server's, and from the server otherwise.
 *
 * <p>It is <em>activated</em> before {@link PublishedClient#attach} hands it out: {@link
 * #applyPublishedState} has run with the right state, {@link #version()} and {@link #fromStore()}
 * say where it came from, and {@link #activated()} has run. Published objects reach a client
 * through an attach ({@link PublishedClient#attach}, or a {@link PublishedResolver}); code that
 * holds one before its attach completes (a listener, another thread) waits with {@link
 * #whenReady()}. An object received outside an attach (returned by some other remote method) is
 * never activated. Later republishes run {@link #applyPublishedState} again and
 * are written to the store with their version.
 *
 * <pre>{@code
 * public final class TileCache extends RemotePublished {
 *   private volatile String terrain;
 *
 *   protected void applyPublishedState(byte[] state, int formatVersion) {
 *     terrain = new String(state, StandardCharsets.UTF_8);
 *   }
 *
 *   public String terrain() {
 *     return terrain;
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe. {@link #applyPublishedState} and {@link #activated()} run one at
 * a time on the client's executor; fields they set and other threads read must be published safely
 * (volatile or concurrent collections). The accessors may be called from any thread.
 */
public abstract class RemotePublished extends RemoteCache {
  /** The remote name of the push a republish sends. */
  static final String PUSH_METHOD = "pbjRepublished";

  private static final Logger log = LoggerFactory.getLogger(RemotePublished.class);

  private final Object lock = new Object();
  private final CompletableFuture<RemotePublished> ready = new CompletableFuture<>();
  private final List<Consumer<? super RemotePublished>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<? super RemotePublished>> updateListeners =
      new CopyOnWriteArrayList<>();
  @GuardedBy("lock")
  private WireState received;
  @GuardedBy("lock")
  private HeldState held;
  @GuardedBy("lock")
  private WireState pendingPush;
  @GuardedBy("lock")
  private boolean activated;
  @GuardedBy("lock")
  private boolean retainStates;
  @GuardedBy("lock")
  private WireState current;
  @GuardedBy("lock")
  private SnapshotKey key;
  @GuardedBy("lock")
  private SnapshotStore store;
  @GuardedBy("lock")
  private volatile String identity;
  @GuardedBy("lock")
  private volatile long version;
  @GuardedBy("lock")
  private volatile long revision;
  @GuardedBy("lock")
  private volatile boolean fromStore;

  protected RemotePublished() {}

  /**
   * Replaces the whole state with {@code state}, encoded by the publisher in {@code formatVersion}.
   * Throwing makes the state unusable: a stored state that fails here is refetched; a state from
   * the server that fails here fails activation.
   */
  protected abstract void applyPublishedState(byte[] state, int formatVersion);

  /** Runs once, on the executor, after the first state was applied and before user code sees it. */
  protected void activated() {}

  /** The published identity; null before the state arrived. */
  public final String identity() {
    return identity;
  }

  /** The version of the state applied now. */
  public final long version() {
    return version;
  }

  /** Whether the state applied now came from the local store rather than the server. */
  public final boolean fromStore() {
    return fromStore;
  }

  /** Whether the object has been activated. */
  public final boolean isActivated() {
    return ready.isDone() && !ready.isCompletedExceptionally();
  }

  /** The store key the object is kept under; null before activation. */
  public final SnapshotKey storeKey() {
    synchronized (lock) {
      return key;
    }
  }

  /**
   * Completes with this object once it is activated, or fails with the cause when activation
   * failed (a failed fetch, a lost connection). Completes on the client's executor.
   */
  public final CompletableFuture<RemotePublished> whenReady() {
    return ready.thenApply(r -> r);
  }

  /** Runs {@code listener} when the object is activated (at once, on this thread, if it is). */
  public final void onActivated(Consumer<? super RemotePublished> listener) {
    listeners.add(listener);
    if (isActivated() && listeners.remove(listener)) {
      listener.accept(this);
    }
  }

  /**
   * Runs {@code listener} on the executor after each pushed update (a republish on the server) has
   * been applied and written to the store, in the order the updates arrive. A push that arrived
   * while the object was being activated is applied just before {@link #activated()}, and its
   * listeners may run before {@link #whenReady()} completes.
   */
  public final void onUpdate(Consumer<? super RemotePublished> listener) {
    updateListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /** Keeps the wire state until the attaching client activates the object. */
  @Override
  protected final void setState(Object state) {
    if (state instanceof HeldState h) {
      synchronized (lock) {
        if (!activated) {
          held = h;
          return;
        }
      }
      return;    // a resend of the version this object holds
    }
    if (!(state instanceof WireState w)) {
      throw new PublishException(
          PbException.Code.PROTOCOL_ERROR,
          getClass().getName() + " received a state of type "
              + (state == null ? "null" : state.getClass().getName()) + " instead of a WireState");
    }
    synchronized (lock) {
      if (!activated && received == null && held == null) {
        identity = w.identity();
        received = w;
        return;
      }
    }
    // The whole current state sent again (after the server coalesced updates): a push, held if
    // the object is still being activated.
    applyPush(w);
  }

  /**
   * The entry point of a republish push. Not for application code: the server calls it.
   */
  @Remote(PUSH_METHOD)
  public final void republished(
      String identity, long version, long revision, int format, byte[] state) {
    applyPush(new WireState(identity, version, revision, format, state));
  }

  private void applyPush(WireState w) {
    if (w.state() == null) {
      return;    // a resend of the version we hold
    }
    synchronized (lock) {
      if (!activated) {
        if (pendingPush == null || w.revision() > pendingPush.revision()) {
          pendingPush = w;
        }
        return;
      }
      if (w.revision() <= revision) {
        return;
      }
      applyPublishedState(w.state(), w.format());
      version = w.version();
      revision = w.revision();
      fromStore = false;
      if (retainStates) {
        current = w;
      }
      // Under the lock, so the store sees the states in the order they were applied (put only
      // enqueues: it never waits for the disk).
      try {
        store.put(key, Snapshot.of(w.version(), w.format(), w.state()));
      } catch (RuntimeException e) {
        log.warn("could not store republished {} v{}: {}", key, w.version(), e.toString());
      }
    }
    for (Consumer<? super RemotePublished> l : updateListeners) {
      try {
        l.accept(this);
      } catch (RuntimeException e) {
        log.warn("update listener of {} failed", identity, e);
      }
    }
  }

  // --- used by the Activator -------------------------------------------------------------------

  final WireState received() {
    synchronized (lock) {
      return received;
    }
  }

  /**
   * Turns a {@link HeldState} received in inventory mode into the version-only state it stands
   * for, from the inventory the attach sent; false if the index is outside it.
   */
  final boolean resolveHeld(String[] identities, long[] versions) {
    synchronized (lock) {
      HeldState h = held;
      if (h == null) {
        return true;
      }
      if (identities == null || h.index() < 0 || h.index() >= identities.length) {
        return false;
      }
      held = null;
      identity = identities[h.index()];
      received = new WireState(identity, versions[h.index()], h.revision(), h.format(), null);
      return true;
    }
  }

  /** Keeps the bytes of every state applied from now on, for {@link #currentState()} (relays). */
  final void retainStates() {
    synchronized (lock) {
      retainStates = true;
    }
  }

  /** The state applied now, as bytes; null unless {@link #retainStates()} was called. */
  final WireState currentState() {
    synchronized (lock) {
      return current;
    }
  }

  /** Applies the first state; returns false if the object's code refused it. */
  final boolean tryApply(byte[] state, int format, long stateVersion) {
    try {
      synchronized (lock) {
        applyPublishedState(state, format);
        if (retainStates) {
          current = new WireState(identity, stateVersion, 0, format, state);
        }
      }
      return true;
    } catch (RuntimeException e) {
      log.debug("{} refused a state of {} bytes: {}", identity, state.length, e.toString());
      return false;
    }
  }

  /**
   * Marks the object activated with the state last applied; returns a push that arrived while it
   * was being activated and is newer, or null.
   */
  final WireState markActivated(
      SnapshotKey storeKey, SnapshotStore s, long v, long rev, boolean stored) {
    synchronized (lock) {
      key = storeKey;
      store = s;
      version = v;
      revision = rev;
      fromStore = stored;
      activated = true;
      received = null;
      WireState p = pendingPush;
      pendingPush = null;
      return p != null && p.revision() > rev ? p : null;
    }
  }

  /** Runs the hook and listeners and completes {@link #whenReady()}. */
  final void announce(WireState newerPush) {
    if (newerPush != null) {
      applyPush(newerPush);
    }
    try {
      synchronized (lock) {    // not at the same time as a push's applyPublishedState
        activated();
      }
    } catch (RuntimeException e) {
      log.warn("{}.activated() failed", getClass().getName(), e);
    }
    ready.complete(this);
    for (Consumer<? super RemotePublished> l : listeners) {
      if (listeners.remove(l)) {
        try {
          l.accept(this);
        } catch (RuntimeException e) {
          log.warn("activation listener of {} failed", identity, e);
        }
      }
    }
  }

  final void fail(Throwable cause) {
    ready.completeExceptionally(cause);
  }

  /** Whether an activation of this object failed (it cannot be activated again). */
  final boolean activationFailed() {
    return ready.isCompletedExceptionally();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + identity + " v" + version
        + (fromStore ? " from store" : "") + (isActivated() ? "" : " inactive") + "]";
  }
}
