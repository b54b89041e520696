package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbException;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import io.pbj.publish.internal.WireState;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The result of {@link PublishedClient#attach}: the service's objects, activated, and what the
 * activation cost. It is live while its connection is open: objects the server publishes later
 * join it, activated (from the store when the version matches, else from their state) before
 * {@link #onPublished} listeners see them; objects the server unpublishes leave it, and their
 * store entries are removed, before {@link #onUnpublished} listeners see them. An attachment can
 * grow and shrink ({@link #add}, {@link #drop}), one call each.
 *
 * <pre>{@code
 * Attachment world = client.attach(endpoint, "world").join();
 * TileCache tile = world.get("tile-0-0", TileCache.class);
 * world.onPublished(o -> scene.add(o));
 * world.onUnpublished(o -> scene.remove(o));
 * log.info("{} hits, {} fetched, {} extra calls", world.hits(), world.fetched(), world.extraCalls());
 * }</pre>
 *
 * <p>Thread-safety: thread-safe. {@link #objects()} is a snapshot (an immutable map, replaced as
 * objects come and go); listeners run on the connection's executor, one announcement at a time.
 */
public final class Attachment {
  private static final Logger log = LoggerFactory.getLogger(Attachment.class);

  private final PublishedClient client;
  private final RemoteReference endpoint;
  private final String serverId;
  private final String service;
  private final String perspectiveKey;
  private final ServerProof proof;
  private final Delegation granted;
  private final List<Consumer<? super RemotePublished>> publishedListeners =
      new CopyOnWriteArrayList<>();
  private final List<Consumer<? super RemotePublished>> unpublishedListeners =
      new CopyOnWriteArrayList<>();
  private final AtomicLong publishedCount = new AtomicLong();
  private final AtomicLong unpublishedCount = new AtomicLong();
  private volatile Map<String, RemotePublished> objects = Map.of();
  /**
   * Identities being dropped, with how many drops of each are under way: from the drop step until
   * the server's word that it dropped them ({@link #announcedDropped}), which comes among its
   * announcements, after every one it wrote before it learnt of the drop and before every one
   * after. An announcement of a dropped identity in between is ignored, else the object would be
   * shown though dropped, and never told of its unpublishing (the server announces only what the
   * attachment covers); later ones follow the server's interest again.
   */
  @GuardedBy("this")
  private final Map<String, Integer> dropping = new HashMap<>();
  private volatile Announcements announcements;
  private int hits;
  private int inlined;
  private int fetched;
  private int extraCalls;
  private int removed;

  Attachment(
      PublishedClient client,
      RemoteReference endpoint,
      String serverId,
      String service,
      String perspectiveKey,
      ServerProof proof,
      Delegation granted) {
    this.client = client;
    this.endpoint = endpoint;
    this.serverId = serverId;
    this.service = service;
    this.perspectiveKey = perspectiveKey;
    this.proof = proof;
    this.granted = granted;
  }

  /** The attach's activation is done: its objects and counts. */
  void attached(List<RemotePublished> activated, int hits, int inlined, int fetched,
      int extraCalls, int removed) {
    put(activated);
    this.hits = hits;
    this.inlined = inlined;
    this.fetched = fetched;
    this.extraCalls = extraCalls;
    this.removed = removed;
  }

  void announcements(Announcements a) {
    announcements = a;
  }

  PublishedClient client() {
    return client;
  }

  RemoteReference endpoint() {
    return endpoint;
  }

  /** The origin server's id, as the server gave it. */
  public String serverId() {
    return serverId;
  }

  /**
   * Whether the server proved {@link #serverId()} in this attach (false only for an id accepted
   * without proof by {@link PublishedClient.Builder#allowUnprovenServerIds}).
   */
  public boolean proven() {
    return proof != null;
  }

  /** The verified proof of the server id, or null if it was not proven (for relays). */
  ServerProof proof() {
    return proof;
  }

  /** The delegation the server granted to this client's relay key, or null (for relays). */
  Delegation granted() {
    return granted;
  }

  /** The service name. */
  public String service() {
    return service;
  }

  /** The perspective key the server named for this connection. */
  public String perspectiveKey() {
    return perspectiveKey;
  }

  /** The activated objects by identity: a snapshot, in the order they arrived. */
  public Map<String, RemotePublished> objects() {
    return objects;
  }

  /** The object with {@code identity}, cast to {@code type}; null if absent. */
  public <T extends RemotePublished> T get(String identity, Class<T> type) {
    return type.cast(objects.get(identity));
  }

  /**
   * Runs {@code listener} for each object the server publishes after the attach, once it is
   * activated and has joined {@link #objects()}; on the connection's executor.
   */
  public void onPublished(Consumer<? super RemotePublished> listener) {
    publishedListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Runs {@code listener} for each object the server unpublishes, once it has left {@link
   * #objects()} and the store; on the connection's executor.
   */
  public void onUnpublished(Consumer<? super RemotePublished> listener) {
    unpublishedListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Adds objects to the attachment in one call (a game client whose view moves): the server
   * answers them as an attach does (in inventory mode, those whose stored version is current go
   * as versions only and activate from the store), they join {@link #objects()}, and are kept
   * current and announced from now on. Completes with the objects added; identities already in
   * the attachment are not asked for again, and ones the server does not publish are absent from
   * the result.
   */
  public CompletableFuture<Map<String, RemotePublished>> add(Collection<String> identities) {
    Set<String> wanted = new LinkedHashSet<>(Objects.requireNonNull(identities, "identities"));
    return steps().then(a -> grow(wanted));
  }

  /**
   * Takes objects out of the attachment in one call: they leave {@link #objects()} at once, are
   * released (the server stops sending their updates) and are not announced any more; their
   * store entries stay, so adding them back is a store hit if they did not change meanwhile.
   */
  public CompletableFuture<Void> drop(Collection<String> identities) {
    Set<String> unwanted = new LinkedHashSet<>(Objects.requireNonNull(identities, "identities"));
    return steps().then(a -> shrink(unwanted));
  }

  private Announcements steps() {
    Announcements a = announcements;
    if (a == null) {
      throw new IllegalStateException("this attachment is not live (its attach has not completed)");
    }
    return a;
  }

  private CompletableFuture<Map<String, RemotePublished>> grow(Set<String> wanted) {
    Map<String, RemotePublished> now = objects;
    wanted.removeIf(now::containsKey);
    if (wanted.isEmpty()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    PublishedClient.Inventory inv = client.mode() == PublishedClient.Mode.INVENTORY
        ? client.inventoryOf(SnapshotPrefix.of(serverId, service, perspectiveKey), wanted)
        : PublishedClient.Inventory.NONE;
    return endpoint
        .callRemote(List.class, "interest", wanted.toArray(new String[0]), inv.identities(),
            inv.versions(), new String[0])
        .thenCompose(answered -> {
          @SuppressWarnings("unchecked")
          List<Object> raw = answered == null ? List.of() : (List<Object>) answered;
          List<RemotePublished> received;
          try {
            received = PublishedClient.received(raw, service, inv.identities(), inv.versions());
            for (RemotePublished r : received) {
              if (!wanted.contains(r.identity())) {
                throw new PublishException(PbException.Code.PROTOCOL_ERROR, "service " + service
                    + " answered " + r.identity() + ", which was not asked for");
              }
            }
          } catch (RuntimeException e) {
            throw Activation.failAll(raw, e);
          }
          return new Activation(this, received, false, null, client.retainsStates()).run();
        })
        .thenApply(activated -> {
          put(activated);
          Map<String, RemotePublished> added = new LinkedHashMap<>();
          for (RemotePublished r : activated) {
            added.put(r.identity(), r);
          }
          return Collections.unmodifiableMap(added);
        });
  }

  private CompletableFuture<Void> shrink(Set<String> unwanted) {
    synchronized (this) {
      for (String id : unwanted) {
        dropping.merge(id, 1, Integer::sum);
      }
    }
    List<RemotePublished> gone = take(unwanted);
    for (RemotePublished r : gone) {
      r.remove(false);
      Activation.release(r);
    }
    return endpoint
        .callRemote(Object.class, "interest", new String[0], null, null,
            unwanted.toArray(new String[0]))
        // The server tells the drop among its announcements (Announcements#dropped), and the
        // marks go then; a drop that failed tells nothing, and the marks go after its answer.
        .whenComplete((x, failure) -> {
          if (failure != null) {
            steps().then(a -> {
              undrop(unwanted);
              return CompletableFuture.completedFuture(null);
            });
          }
        })
        .thenApply(x -> null);
  }

  /**
   * The server announces {@code identities} no more: announcements of them that it sent before
   * the drop have been applied (ignored), and later ones follow its interest again.
   */
  CompletableFuture<Void> announcedDropped(String[] identities) {
    undrop(java.util.Arrays.asList(identities));
    return CompletableFuture.completedFuture(null);
  }

  private synchronized void undrop(Collection<String> identities) {
    for (String id : identities) {
      if (id != null) {
        dropping.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
      }
    }
  }

  /** Objects the server published since the attach: activated, then announced. */
  CompletableFuture<Void> announcedPublished(List<Object> raw) {
    Map<String, RemotePublished> now = objects;
    List<Object> fresh = new ArrayList<>(raw.size());
    for (Object o : raw) {
      if (o instanceof RemotePublished r && r.identity() != null
          && now.get(r.identity()) == r) {
        continue;    // announced while the attach answered it too
      }
      if (o instanceof RemotePublished r && isDropped(r.identity())) {
        r.fail(new PublishException(PbException.Code.ACTIVATION_FAILED, r.identity()
            + " was announced after its attachment dropped it: not activated"));
        Activation.release(r);
        continue;
      }
      fresh.add(o);
    }
    List<RemotePublished> received;
    try {
      received = PublishedClient.received(fresh, service, null, null);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(Activation.failAll(fresh, e));
    }
    // An object unpublished and published again before this client released its copy arrives as
    // that copy, which is out of service: ask for it again (its release goes first, so the
    // answer is a fresh copy).
    Set<String> revive = new LinkedHashSet<>();
    received.removeIf(r -> r.isRemoved() && revive.add(r.identity()));
    for (RemotePublished r : received) {
      RemotePublished old = now.get(r.identity());
      if (old != null) {
        take(Set.of(r.identity()));    // replaced by another object under the same identity
        old.remove(false);
        Activation.release(old);
      }
    }
    CompletableFuture<Void> done = new Activation(this, received, true, null,
        client.retainsStates()).run().thenAccept(activated -> {
          put(activated);
          announcePublished(activated);
        });
    if (revive.isEmpty()) {
      return done;
    }
    return done.thenCompose(v -> grow(revive))
        .thenAccept(added -> announcePublished(List.copyOf(added.values())));
  }

  private void announcePublished(List<RemotePublished> activated) {
    for (RemotePublished r : activated) {
      publishedCount.incrementAndGet();
      RemotePublished.tell(publishedListeners, r, "publish");
    }
  }

  private synchronized boolean isDropped(String identity) {
    return identity != null && dropping.containsKey(identity);
  }

  /** Identities the server unpublished: removed from the attachment and the store. */
  CompletableFuture<Void> announcedUnpublished(String[] identities) {
    Set<String> ids = new LinkedHashSet<>();
    for (String id : identities) {
      if (id != null) {
        ids.add(id);
      }
    }
    List<RemotePublished> gone = take(ids);
    for (RemotePublished r : gone) {
      ids.remove(r.identity());
      r.remove(true, proven());
      Activation.release(r);
      unpublishedCount.incrementAndGet();
      RemotePublished.tell(unpublishedListeners, r, "unpublish");
    }
    for (String id : proven() ? ids : Set.<String>of()) {
      try {
        client.store().remove(key(id));    // held in the store, not in this attachment
      } catch (RuntimeException e) {
        log.debug("could not remove unpublished {}: {}", id, e.toString());
      }
    }
    return CompletableFuture.completedFuture(null);
  }

  /**
   * Fetches the whole state of an object whose deltas do not follow the state it holds, and
   * hands it back ({@link RemotePublished#refreshed}).
   */
  void refresh(RemotePublished r) {
    String id = r.identity();
    endpoint.callRemote(List.class, "fetch", (Object) new String[] {id})
        .whenComplete((states, failure) -> {
          if (failure == null && states != null && states.size() == 1
              && states.get(0) instanceof WireState w && id.equals(w.identity())) {
            r.refreshed(w);
          } else {
            r.refreshFailed();
            log.debug("refreshing {} failed: {}", id,
                failure != null ? failure.toString() : "no state (unpublished?)");
          }
        });
  }

  SnapshotKey key(String identity) {
    try {
      return new SnapshotKey(serverId, service, perspectiveKey, identity);
    } catch (IllegalArgumentException e) {
      throw new PublishException(
          PbException.Code.PROTOCOL_ERROR, "the server named a key the store refuses: "
              + e.getMessage(), e);
    }
  }

  private synchronized void put(List<RemotePublished> added) {
    if (added.isEmpty()) {
      return;
    }
    Map<String, RemotePublished> m = new LinkedHashMap<>(objects);
    for (RemotePublished r : added) {
      m.put(r.identity(), r);
    }
    objects = Collections.unmodifiableMap(m);
  }

  private synchronized List<RemotePublished> take(Set<String> identities) {
    Map<String, RemotePublished> m = new LinkedHashMap<>(objects);
    List<RemotePublished> taken = new ArrayList<>();
    for (String id : identities) {
      RemotePublished r = m.remove(id);
      if (r != null) {
        taken.add(r);
      }
    }
    if (!taken.isEmpty()) {
      objects = Collections.unmodifiableMap(m);
    }
    return taken;
  }

  /** Objects activated stored from the local store in the attach. */
  public int hits() {
    return hits;
  }

  /** Objects whose state came inline in the attach answer. */
  public int inlined() {
    return inlined;
  }

  /** Objects whose state came from the attach's batched fetch. */
  public int fetched() {
    return fetched;
  }

  /** Calls the attach made after the attach call: 0 or 1. */
  public int extraCalls() {
    return extraCalls;
  }

  /**
   * Objects of the service the store held that the server no longer publishes, removed from the
   * store by the attach (a whole-service attach only).
   */
  public int removed() {
    return removed;
  }

  /** Objects the server published since the attach that joined this attachment. */
  public long publishedSinceAttach() {
    return publishedCount.get();
  }

  /** Objects the server unpublished since the attach that left this attachment. */
  public long unpublishedSinceAttach() {
    return unpublishedCount.get();
  }

  @Override
  public String toString() {
    return "Attachment[" + serverId + (proven() ? "" : " (unproven)") + "/" + service + "/"
        + perspectiveKey + ": "
        + objects.size() + " objects, " + hits + " hits, " + inlined + " inlined, " + fetched
        + " fetched, " + extraCalls + " extra calls]";
  }
}
