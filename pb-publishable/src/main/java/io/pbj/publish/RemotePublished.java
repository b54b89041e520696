package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbException;
import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.publish.internal.EncodedState;
import io.pbj.publish.internal.HeldState;
import io.pbj.publish.internal.WireState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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
 * #whenReady()}. A server refuses to send a published object outside an attach (returned by some
 * other remote method), so no object that never becomes ready reaches the client. Later
 * republishes run {@link #applyPublishedState} again, deltas ({@link Publishable#republishDelta})
 * run this class's public {@link Remote @Remote} method of the delta's name, and each new state is
 * written to the store with its version (after a delta: {@link #encodedState()}, or the value of
 * a {@link RemoteValue}). When the server unpublishes the object, {@link #unpublished()} runs, the
 * object leaves its attachment and its store entry is removed.
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

  /** The remote name of the push a delta sends. */
  static final String DELTA_METHOD = "pbjDelta";

  /** Changes held while the object is activated or refreshed; beyond, it refreshes instead. */
  static final int MAX_PENDING = 1024;

  private static final Logger log = LoggerFactory.getLogger(RemotePublished.class);

  /** A change pushed as a delta (see {@link Publishable#republishDelta}). */
  private record Delta(long version, long revision, String method, Object[] args) {}

  private final Object lock = new Object();
  private final CompletableFuture<RemotePublished> ready = new CompletableFuture<>();
  private final List<Consumer<? super RemotePublished>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<? super RemotePublished>> updateListeners =
      new CopyOnWriteArrayList<>();
  private final List<Consumer<? super RemotePublished>> unpublishListeners =
      new CopyOnWriteArrayList<>();
  @GuardedBy("lock")
  private WireState received;
  @GuardedBy("lock")
  private HeldState held;
  /** Pushes (WireState) and deltas (Delta) by revision, while not activated or refreshing. */
  @GuardedBy("lock")
  private final TreeMap<Long, Object> pending = new TreeMap<>();
  @GuardedBy("lock")
  private boolean activated;
  /** A delta did not follow the state held: a fetch of the whole state is under way. */
  @GuardedBy("lock")
  private boolean refreshing;
  /** Unpublished or dropped: no more changes are applied. */
  @GuardedBy("lock")
  private boolean removed;
  @GuardedBy("lock")
  private boolean retainStates;
  @GuardedBy("lock")
  private WireState current;
  @GuardedBy("lock")
  private SnapshotKey key;
  @GuardedBy("lock")
  private SnapshotStore store;
  @GuardedBy("lock")
  private Consumer<RemotePublished> refresher;
  @GuardedBy("lock")
  private ChangeForwarder forwarder;
  @GuardedBy("lock")
  private volatile String identity;
  @GuardedBy("lock")
  private volatile long version;
  @GuardedBy("lock")
  private volatile long revision;
  @GuardedBy("lock")
  private volatile boolean fromStore;
  private volatile boolean unpublished;

  protected RemotePublished() {}

  /**
   * Replaces the whole state with {@code state}, encoded by the publisher in {@code formatVersion}.
   * Throwing makes the state unusable: a stored state that fails here is refetched; a state from
   * the server that fails here fails activation.
   */
  protected abstract void applyPublishedState(byte[] state, int formatVersion);

  /**
   * The current state in the publisher's encoding, for the store after a delta changed it; null
   * (the default) if this class cannot encode it, and then the store keeps the entry of the last
   * whole state, which the next attach finds stale and refetches. {@link RemoteValue} encodes its
   * value itself.
   */
  protected byte[] encodedState() {
    return null;
  }

  /** Runs once, on the executor, after the first state was applied and before user code sees it. */
  protected void activated() {}

  /**
   * Runs once when the server unpublished the object while this client was attached (on the
   * executor), after it left its {@link Attachment} and before the {@link #onUnpublished}
   * listeners. Its store entry is removed; pushes to it are ignored from now on.
   */
  protected void unpublished() {}

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

  /** Whether the server unpublished the object while this client was attached. */
  public final boolean isUnpublished() {
    return unpublished;
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
   * Runs {@code listener} on the executor after each pushed update (a republish or a delta on the
   * server) has been applied and written to the store, in the order the updates arrive. A push
   * that arrived while the object was being activated is applied just before {@link
   * #activated()}, and its listeners may run before {@link #whenReady()} completes.
   */
  public final void onUpdate(Consumer<? super RemotePublished> listener) {
    updateListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /** Runs {@code listener} on the executor when the server unpublishes the object. */
  public final void onUnpublished(Consumer<? super RemotePublished> listener) {
    unpublishListeners.add(java.util.Objects.requireNonNull(listener, "listener"));
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
      String identity, long version, long revision, int format, Object state) {
    applyPush(new WireState(identity, version, revision, format, state));
  }

  /**
   * The entry point of a delta push. Not for application code: the server calls it.
   */
  @Remote(DELTA_METHOD)
  public final void delta(
      String identity, long version, long revision, String method, Object[] args) {
    if (method == null) {
      log.warn("{}: a delta without a method name was ignored", this.identity);
      return;
    }
    change(new Delta(version, revision, method, args));
  }

  private void applyPush(WireState w) {
    if (w.state() == null) {
      return;    // a resend of the version we hold
    }
    change(w);
  }

  /** A push or a delta: applied now if it follows the state held, else held or refreshed. */
  private void change(Object change) {
    long rev = change instanceof WireState w ? w.revision() : ((Delta) change).revision();
    int n;
    boolean refresh;
    synchronized (lock) {
      if (removed || rev <= revision && activated) {
        return;
      }
      if (!activated || refreshing) {
        hold(rev, change);
        if (!activated || !(change instanceof WireState)) {
          return;
        }
      } else {
        pending.put(rev, change);
      }
      refresh = drain();
      n = applied;
    }
    afterChanges(n, refresh);
  }

  @GuardedBy("lock")
  private void hold(long rev, Object change) {
    if (pending.size() >= MAX_PENDING && !pending.containsKey(rev)) {
      // A server that pushes this much faster than the object activates: keep the newest whole
      // state, if any, and let a refresh bring the rest.
      pending.entrySet().removeIf(e -> !(e.getValue() instanceof WireState));
      if (pending.size() >= MAX_PENDING) {
        pending.pollFirstEntry();
      }
    }
    pending.put(rev, change);
  }

  /**
   * Applies held changes that follow the state held, in revision order: the newest whole state
   * whenever it is newer (it supersedes everything before it), a delta only on the revision just
   * before it. Counts what it applied in {@link #applied}. Returns true if a refresh must start:
   * a delta does not follow (a gap), or one failed.
   */
  @GuardedBy("lock")
  private boolean drain() {
    return drain(false);
  }

  /**
   * {@link #drain()}; with {@code afterRefresh}, a delta that still does not follow the whole
   * state just fetched is dropped rather than refreshed again (on an ordered connection only a
   * bad push can leave such a gap).
   */
  @GuardedBy("lock")
  private boolean drain(boolean afterRefresh) {
    applied = 0;
    Map.Entry<Long, Object> whole = null;
    for (Map.Entry<Long, Object> e : pending.descendingMap().entrySet()) {
      if (e.getValue() instanceof WireState) {
        whole = e;
        break;
      }
    }
    if (whole != null && whole.getKey() > revision) {
      pending.headMap(whole.getKey(), false).clear();
      pending.pollFirstEntry();
      applyWhole((WireState) whole.getValue());
      refreshing = false;
    }
    while (!pending.isEmpty()) {
      Map.Entry<Long, Object> first = pending.firstEntry();
      long rev = first.getKey();
      if (rev <= revision || first.getValue() instanceof WireState) {
        pending.pollFirstEntry();    // older than the state held
        continue;
      }
      if (refreshing) {
        return false;    // wait for the whole state
      }
      if (rev != revision + 1) {
        if (afterRefresh) {
          log.warn("{}: a delta at revision {} does not follow revision {}: dropped", identity,
              rev, revision);
          pending.pollFirstEntry();
          continue;
        }
        refreshing = true;
        return true;
      }
      pending.pollFirstEntry();
      if (!applyDelta((Delta) first.getValue())) {
        refreshing = true;
        pending.clear();
        return true;
      }
    }
    return false;
  }

  /** Changes applied by the last {@link #drain()}. */
  @GuardedBy("lock")
  private int applied;

  @GuardedBy("lock")
  private void applyWhole(WireState w) {
    long from = version;
    applied++;
    applyWire(w.state(), w.format());
    version = w.version();
    revision = w.revision();
    fromStore = false;
    if (retainStates) {
      current = w;
    }
    // Under the lock, so the store sees the states in the order they were applied (put only
    // enqueues: it never waits for the disk).
    store(w.format(), storedForm(w.state()));
    forward(from, null, null, w);
  }

  /** Applies a delta; false if it failed (the state may be half changed: refresh it). */
  @GuardedBy("lock")
  private boolean applyDelta(Delta d) {
    try {
      DeltaMethods.apply(this, d.method(), d.args());
    } catch (RuntimeException e) {
      log.warn("{}: delta {} v{} failed ({}); refetching the whole state", identity, d.method(),
          d.version(), e.toString());
      return false;
    }
    applied++;
    long from = version;
    version = d.version();
    revision = d.revision();
    fromStore = false;
    Object state = currentValue();
    if (state == null) {
      state = encodedState();
    }
    WireState now = state == null ? null
        : new WireState(identity, version, revision, lastFormat, state);
    if (retainStates) {
      current = now;
    }
    if (state != null) {
      store(lastFormat, storedForm(state));
    }
    forward(from, d.method(), d.args(), now);
    return true;
  }

  /**
   * Told of each change applied to an object, under the object's lock and in the order the
   * changes are applied (a {@link Relay} forwards them downstream).
   */
  @FunctionalInterface
  interface ChangeForwarder {
    /**
     * A change was applied: a whole state ({@code method} null) or the delta {@code method} with
     * {@code args} on top of the state at {@code fromVersion}. {@code now} is the state held after
     * it, or null if the class cannot encode it after a delta ({@link #encodedState()}).
     */
    void changed(long fromVersion, long version, String method, Object[] args, WireState now);
  }

  /**
   * Forwards every change applied from now on to {@code f} (null: to nobody), after handing it,
   * as a whole state, the state held now if it is retained ({@link #retainStates()}): under the
   * lock, so no change falls between the two.
   */
  final void forwardChanges(ChangeForwarder f) {
    synchronized (lock) {
      forwarder = f;
      if (f != null && current != null && !removed) {
        forward(version, null, null, current);
      }
    }
  }

  @GuardedBy("lock")
  private void forward(long from, String method, Object[] args, WireState now) {
    ChangeForwarder f = forwarder;
    if (f == null) {
      return;
    }
    try {
      f.changed(from, version, method, args, now);
    } catch (RuntimeException e) {
      log.warn("forwarding a change of {} v{} failed", identity, version, e);
    }
  }

  @GuardedBy("lock")
  private int lastFormat = 1;

  @GuardedBy("lock")
  private void store(int format, byte[] bytes) {
    lastFormat = format;
    if (store == null || key == null) {
      return;
    }
    try {
      store.put(key, Snapshot.of(version, format, bytes));
    } catch (RuntimeException e) {
      log.warn("could not store {} v{}: {}", key, version, e.toString());
    }
  }

  private void afterChanges(int applied, boolean refresh) {
    if (refresh) {
      requestRefresh();
    }
    for (int i = 0; i < applied; i++) {
      tell(updateListeners, this, "update");
    }
  }

  /** Runs each of {@code listeners} with {@code r}; a failing one is logged, the rest run. */
  static void tell(
      List<Consumer<? super RemotePublished>> listeners, RemotePublished r, String kind) {
    for (Consumer<? super RemotePublished> l : listeners) {
      try {
        l.accept(r);
      } catch (RuntimeException e) {
        log.warn("{} listener of {} failed", kind, r.identity(), e);
      }
    }
  }

  private void requestRefresh() {
    Consumer<RemotePublished> r;
    synchronized (lock) {
      r = refresher;
    }
    if (r != null) {
      r.accept(this);
    }
  }

  /** A fetched whole state after a refresh: applied if newer, then what was held after it. */
  final void refreshed(WireState w) {
    int n;
    boolean refresh;
    synchronized (lock) {
      if (removed || !activated) {
        return;
      }
      refreshing = false;
      if (w != null && w.state() != null && w.revision() > revision) {
        pending.put(w.revision(), w);
      }
      refresh = drain(true);
      n = applied;
    }
    afterChanges(n, refresh);
  }

  /** The refresh could not be made (connection lost, object gone): allow another later. */
  final void refreshFailed() {
    synchronized (lock) {
      refreshing = false;
      pending.clear();    // what was held cannot be applied without the whole state
    }
  }

  // --- states: bytes or registered values ------------------------------------------------------

  /** Applies a state as it came: the application's bytes, or a registered value. */
  void applyWire(Object state, int format) {
    if (state instanceof byte[] bytes) {
      applyPublishedState(bytes, format);
      return;
    }
    throw new IllegalArgumentException(getClass().getName() + " received a state of type "
        + (state instanceof EncodedState ? "registered value"
            : state == null ? "null" : state.getClass().getName())
        + ": a RemotePublished receives bytes; extend RemoteValue to receive registered values");
  }

  /** The current state as a value (a {@link RemoteValue}'s); null for a byte-state object. */
  Object currentValue() {
    return null;
  }

  /** The bytes the store keeps for {@code state}. */
  byte[] storedForm(Object state) {
    if (state instanceof byte[] b) {
      return b;
    }
    if (state instanceof EncodedState e) {
      return e.bytes();    // the server's encoding of the value: stored as it came
    }
    return connection().codec().encode(state);
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

  /** Keeps every state applied from now on, for {@link #currentState()} (relays). */
  final void retainStates() {
    synchronized (lock) {
      retainStates = true;
    }
  }

  /** The state applied now; null unless {@link #retainStates()} was called. */
  final WireState currentState() {
    synchronized (lock) {
      return current;
    }
  }

  /**
   * Applies the first state (stored bytes or from the server); returns null, or why the object
   * refused it.
   */
  final RuntimeException tryApply(Object state, int format, long stateVersion, boolean stored) {
    try {
      synchronized (lock) {
        if (stored) {
          applyPublishedState((byte[]) state, format);
        } else {
          applyWire(state, format);
        }
        lastFormat = format;
        if (retainStates) {
          // A stored value is kept as its encoding too: a relay passes the bytes on.
          Object kept = stored && currentValue() != null
              ? new EncodedState((byte[]) state) : state;
          current = new WireState(identity, stateVersion, 0, format, kept);
        }
      }
      return null;
    } catch (RuntimeException e) {
      log.debug("{} refused a state: {}", identity, e.toString());
      return e;
    }
  }

  /**
   * Marks the object activated with the state last applied; pushes and deltas held meanwhile are
   * applied by {@link #announce()}.
   */
  final void markActivated(
      SnapshotKey storeKey, SnapshotStore s, long v, long rev, boolean stored,
      Consumer<RemotePublished> refresh) {
    synchronized (lock) {
      key = storeKey;
      store = s;
      version = v;
      revision = rev;
      fromStore = stored;
      activated = true;
      received = null;
      refresher = refresh;
    }
  }

  /**
   * Applies what arrived during activation, runs the hook and listeners and completes {@link
   * #whenReady()}.
   */
  final void announce() {
    int n;
    boolean refresh;
    synchronized (lock) {
      refresh = drain();
      n = applied;
    }
    afterChanges(n, refresh);
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

  /**
   * Takes the object out of service: no change is applied from now on. With {@code unpublish},
   * its store entry is removed and the hook and listeners run; the caller releases the cache.
   */
  final void remove(boolean unpublish) {
    remove(unpublish, true);
  }

  /**
   * {@link #remove(boolean)}; {@code forgetStored} false keeps the store entry (the attachment's
   * server did not prove its id, so it may not make this client forget what it stored).
   */
  final void remove(boolean unpublish, boolean forgetStored) {
    SnapshotKey k;
    SnapshotStore s;
    synchronized (lock) {
      if (removed) {
        return;
      }
      removed = true;
      pending.clear();
      k = key;
      s = store;
    }
    if (!unpublish) {
      return;
    }
    unpublished = true;
    if (k != null && s != null && forgetStored) {
      try {
        s.remove(k);
      } catch (RuntimeException e) {
        log.warn("could not remove unpublished {} from the store: {}", k, e.toString());
      }
    }
    try {
      unpublished();
    } catch (RuntimeException e) {
      log.warn("{}.unpublished() failed", getClass().getName(), e);
    }
    tell(unpublishListeners, this, "unpublish");
  }

  /** Whether the object was taken out of service ({@link #remove}). */
  final boolean isRemoved() {
    synchronized (lock) {
      return removed;
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
