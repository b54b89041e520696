package io.pbj.publish;

import io.pbj.PbException;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.Builders;
import io.pbj.publish.internal.WireState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of publishing: attaches to a {@link PublishingService} endpoint and activates
 * its objects from the local {@link SnapshotStore} where the stored version is the server's,
 * fetching the rest.
 *
 * <p>Two handshakes, chosen with {@link Builder#mode}:
 *
 * <ul>
 *   <li>{@link Mode#INVENTORY} (default): the attach call carries the versions stored for
 *       (server id, service, perspective); the server inlines state only for stale objects. No
 *       extra round trip. Needs the expected server id and the perspective key up front.
 *   <li>{@link Mode#VERSIONS}: the attach call carries nothing; the server answers versions only
 *       and the client fetches every stale object in one batched call: at most one extra round
 *       trip, whatever the number of objects.
 * </ul>
 *
 * <pre>{@code
 * PublishedClient publishing = PublishedClient.builder()
 *     .store(store)
 *     .expectedServerId(serverId)         // as the server prints it: "pbj1-..."
 *     .progress(p -> System.out.printf("%d/%d%n", p.objectsDone(), p.objectsTotal()))
 *     .build();
 * RemoteReference endpoint = pbClient.rootObject().join();
 * Attachment world = publishing.attach(endpoint, "world").join();
 * }</pre>
 *
 * <p>Server ids are proven, not claimed: each attach sends a fresh random nonce, and the server
 * answers a signature over it (and over the service, the perspective key and, with TLS, the
 * certificate of this connection) by the key its id is derived from, or by a relay that holds a
 * delegation chain from that key. An attach whose server does not prove its id fails with {@link
 * PbException.Code#SERVER_ID_NOT_PROVEN} before anything is read from or written to the
 * store under that id, unless {@link Builder#allowUnprovenServerIds} accepts ids sent without
 * proof (trusted networks only). See docs/PUBLISHING.md for what the proof does and does not
 * protect against without TLS.
 *
 * <p>Thread-safety: thread-safe; one client may attach to several endpoints at once. The store is
 * the caller's: the client never closes it.
 */
public final class PublishedClient {
  /** The two handshakes. */
  public enum Mode {
    /** Send the stored versions with the attach; the server inlines only stale states. */
    INVENTORY,
    /** Send nothing; fetch every stale state in one batched call afterwards. */
    VERSIONS
  }

  private static final Logger log = LoggerFactory.getLogger(PublishedClient.class);

  /** Batches written to the store with one {@code putAll} each. */
  private static final int STORE_BATCH = 1000;

  private final SnapshotStore store;
  private final Mode mode;
  private final String expectedServerId;
  private final String perspectiveKey;
  private final Consumer<ActivationProgress> progress;
  private final boolean retainStates;
  private final boolean allowUnproven;
  private final ServerKey relayKey;
  private final Clock clock;

  private PublishedClient(Builder b) {
    this.store = b.store;
    this.mode = b.mode == null ? Mode.INVENTORY : b.mode;
    this.expectedServerId = b.expectedServerId;
    this.perspectiveKey = b.perspectiveKey == null ? PublishingService.ANONYMOUS : b.perspectiveKey;
    this.progress = b.progress;
    this.retainStates = b.retainStates;
    this.allowUnproven = b.allowUnproven;
    this.relayKey = b.relayKey;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Attaches to {@code service} through {@code endpoint} (what the server's {@link
   * PublishingService#endpoint} became on this side) and activates every object. Completes on the
   * connection's executor with the activated objects, or fails with a {@link PublishException}
   * (wrong server id, unknown service, failed fetch) or the connection's failure; every object of
   * a failed attach has its {@link RemotePublished#whenReady()} failed too.
   *
   * <p>Attach on one connection one at a time (wait for the answer before the next attach): the
   * server keeps one inventory per connection, which a second attach replaces.
   */
  public CompletableFuture<Attachment> attach(RemoteReference endpoint, String service) {
    return attach(endpoint, service, null);
  }

  /**
   * Attaches to {@code service} through {@code endpoint} for the objects named by {@code
   * identities} only, and activates them, as {@link #attach(RemoteReference, String)} does. Fails
   * with {@link PbException.Code#NO_SUCH_OBJECT}, naming them, if the service publishes some
   * of them not.
   *
   * @param identities the identities wanted; null means every object of the service
   */
  public CompletableFuture<Attachment> attach(
      RemoteReference endpoint, String service, Collection<String> identities) {
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(service, "service");
    Set<String> wanted = identities == null ? null : new LinkedHashSet<>(identities);
    Inventory inventory = mode == Mode.INVENTORY ? inventory(service, wanted) : Inventory.NONE;
    String[] only = wanted == null ? null : wanted.toArray(new String[0]);
    byte[] nonce = IdProof.newNonce();
    byte[] binding = IdProof.bindingOf(endpoint.connection());
    return endpoint
        .callRemote(
            AttachReply.class, "attach", expectedServerId, service, perspectiveKey,
            inventory.identities(), inventory.versions(), only, nonce,
            relayKey == null ? null : relayKey.encodedPublicKey())
        .thenCompose(reply -> {
          if (reply == null || reply.objects() == null || reply.serverId() == null
              || reply.service() == null || reply.perspectiveKey() == null) {
            throw new PublishException(PbException.Code.PROTOCOL_ERROR,
                "the attach answer is incomplete: " + reply);
          }
          return new Activation(endpoint, service, wanted, inventory, reply, nonce, binding).run();
        });
  }

  /** What the store holds for one attach: identities and versions, no state. */
  private record Inventory(String[] identities, long[] versions) {
    static final Inventory NONE = new Inventory(null, null);
  }

  private Inventory inventory(String service, Set<String> wanted) {
    List<SnapshotEntry> held =
        store.list(SnapshotPrefix.of(expectedServerId, service, perspectiveKey));
    if (wanted != null) {
      held = held.stream().filter(e -> wanted.contains(e.key().identity())).toList();
    }
    String[] ids = new String[held.size()];
    long[] versions = new long[held.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = held.get(i).key().identity();
      versions[i] = held.get(i).version();
    }
    return new Inventory(ids, versions);
  }

  /** One attach's activation: runs on the connection's executor. */
  private final class Activation {
    final RemoteReference endpoint;
    final AttachReply reply;
    final String requestedService;
    final Set<String> wanted;
    final Inventory inventory;
    final byte[] nonce;
    final byte[] binding;
    boolean proven;
    final List<RemotePublished> objects = new ArrayList<>();
    final Map<SnapshotKey, Snapshot> toStore = new HashMap<>();
    /** Objects whose fresh state is in {@link #toStore}: marked activated once it is written. */
    final List<Runnable> awaitingWrite = new ArrayList<>();
    /** Hooks, listeners and futures to run, in order, once every object is activated. */
    final List<Runnable> announce = new ArrayList<>();
    long bytesDone;
    long bytesTotal;
    long objectsDone;
    int hits;
    int inlined;
    int fetched;
    int extraCalls;

    Activation(
        RemoteReference endpoint,
        String requestedService,
        Set<String> wanted,
        Inventory inventory,
        AttachReply reply,
        byte[] nonce,
        byte[] binding) {
      this.inventory = inventory;
      this.nonce = nonce;
      this.binding = binding;
      this.endpoint = endpoint;
      this.requestedService = requestedService;
      this.wanted = wanted;
      this.reply = reply;
    }

    CompletableFuture<Attachment> run() {
      try {
        // Who answered comes first: nothing of an answer whose server id is wrong or not proven
        // is used, and nothing is read from or written to the store under its id.
        if (expectedServerId != null && !expectedServerId.equals(reply.serverId())) {
          throw new PublishException(
              PbException.Code.SERVER_ID_MISMATCH,
              "expected server id " + expectedServerId + " but the server is "
                  + reply.serverId());
        }
        checkProof();
        Set<String> seen = new java.util.HashSet<>(reply.objects().size() * 2);
        for (Object o : reply.objects()) {
          if (!(o instanceof RemotePublished r)) {
            throw new PublishException(
                PbException.Code.PROTOCOL_ERROR,
                "service " + reply.service() + " sent a "
                    + (o == null ? "null" : o.getClass().getName())
                    + " where a RemotePublished was expected; register a RemotePublished subclass"
                    + " for each Publishable");
          }
          if (r.activationFailed()) {
            throw new PublishException(
                PbException.Code.PROTOCOL_ERROR,
                r + " was part of a failed activation on this connection and cannot be activated"
                    + " on it again; attach on a new connection");
          }
          if (!r.resolveHeld(
              reply.inventoryUsed() ? inventory.identities() : null, inventory.versions())) {
            throw new PublishException(
                PbException.Code.PROTOCOL_ERROR,
                "service " + reply.service() + " answered an object as held by the client, but not"
                    + " from the inventory the client sent");
          }
          if (r.identity() == null || !seen.add(r.identity())) {
            throw new PublishException(
                PbException.Code.PROTOCOL_ERROR,
                "service " + reply.service() + " answered "
                    + (r.identity() == null ? "an object without identity"
                        : "identity " + r.identity() + " twice"));
          }
          objects.add(r);
        }
        if (!requestedService.equals(reply.service())) {
          throw new PublishException(
              PbException.Code.NO_SUCH_SERVICE,
              "server " + reply.serverId() + " offers service " + reply.service() + ", not "
                  + requestedService);
        }
        if (wanted != null) {
          checkAnswered();
        }
        List<RemotePublished> stale = new ArrayList<>();
        List<RemotePublished> versionOnly = new ArrayList<>();
        List<SnapshotKey> versionOnlyKeys = new ArrayList<>();
        for (RemotePublished r : objects) {
          if (retainStates) {
            r.retainStates();
          }
          WireState w = r.received();
          if (w == null) {
            done(0);    // already activated by an earlier attach on this connection
            continue;
          }
          SnapshotKey key = key(w.identity());
          if (w.state() != null) {
            bytesTotal += w.state().length;
            activateFresh(r, key, w);
            inlined++;
            continue;
          }
          versionOnly.add(r);
          versionOnlyKeys.add(key);
        }
        Map<SnapshotKey, Snapshot> stored =
            versionOnly.isEmpty() ? Map.of() : store.getAll(versionOnlyKeys);
        for (Snapshot s : stored.values()) {
          bytesTotal += s.stateSize();
        }
        for (int i = 0; i < versionOnly.size(); i++) {
          RemotePublished r = versionOnly.get(i);
          SnapshotKey key = versionOnlyKeys.get(i);
          WireState w = r.received();
          Snapshot snap = stored.get(key);
          if (snap != null && snap.version() == w.version() && snap.formatVersion() == w.format()) {
            byte[] state = snap.state();
            if (r.tryApply(state, w.format(), w.version())) {
              WireState push = r.markActivated(key, store, w.version(), w.revision(), true);
              announce.add(() -> r.announce(push));
              hits++;
              done(state.length);
              continue;
            }
          }
          if (snap != null) {
            bytesTotal -= snap.stateSize();
          }
          stale.add(r);
        }
        if (stale.isEmpty()) {
          return CompletableFuture.completedFuture(finish());
        }
        String[] ids = new String[stale.size()];
        for (int i = 0; i < ids.length; i++) {
          ids[i] = stale.get(i).received().identity();
        }
        extraCalls++;
        return endpoint
            .callRemote(List.class, "fetch", (Object) ids)
            .handle(
                (states, failure) -> {
                  if (failure != null) {
                    throw fail(new PublishException(
                        PbException.Code.ACTIVATION_FAILED,
                        "fetching " + ids.length + " stale objects from " + reply.serverId() + "/"
                            + reply.service() + " failed: " + PbException.unwrap(failure),
                        PbException.unwrap(failure)));
                  }
                  try {
                    if (states == null || states.size() != ids.length) {
                      throw new PublishException(
                          PbException.Code.PROTOCOL_ERROR,
                          "fetch answered " + (states == null ? "null" : states.size() + " states")
                              + " for " + ids.length
                              + " identities");
                    }
                    for (int i = 0; i < ids.length; i++) {
                      if (!(states.get(i) instanceof WireState w)
                          || w.state() == null
                          || !ids[i].equals(w.identity())) {
                        throw new PublishException(
                            PbException.Code.PROTOCOL_ERROR,
                            "fetch gave no state for " + ids[i] + " (unpublished meanwhile?)");
                      }
                      bytesTotal += w.state().length;
                      activateFresh(stale.get(i), key(ids[i]), w);
                      fetched++;
                    }
                    return finish();
                  } catch (RuntimeException e) {
                    throw fail(e);
                  }
                });
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(fail(e));
      }
    }

    /** Fails unless the server proved its id, or it sent no proof and unproven ids are allowed. */
    private void checkProof() {
      String problem;
      if (reply.proof() == null) {
        if (allowUnproven) {
          log.warn("server {} (service {}) at {} did not prove its id; accepted because"
                  + " allowUnprovenServerIds is set", reply.serverId(), reply.service(),
              endpoint.connection().remoteAddress());
          return;
        }
        problem = "it sent no proof (a server that only claims its id, a relay without"
            + " delegation, or an impostor); on a trusted network, allowUnprovenServerIds()"
            + " accepts ids sent without proof";
      } else {
        problem = IdProof.problem(reply, nonce, binding, clock.millis());
        if (problem == null) {
          proven = true;
          return;
        }
      }
      throw new PublishException(
          PbException.Code.SERVER_ID_NOT_PROVEN,
          "server " + reply.serverId() + " at " + endpoint.connection().remoteAddress()
              + (expectedServerId == null ? "" : " (expected " + expectedServerId + ")")
              + " did not prove its id for service " + reply.service() + ": " + problem
              + "; nothing was read from or written to the store under that id");
    }

    /** Every object answered was asked for, and every one asked for was answered. */
    private void checkAnswered() {
      Set<String> missing = new LinkedHashSet<>(wanted);
      for (RemotePublished r : objects) {
        if (!missing.remove(r.identity())) {
          throw new PublishException(
              PbException.Code.PROTOCOL_ERROR,
              "service " + reply.service() + " answered " + r.identity() + ", which was not asked"
                  + " for");
        }
      }
      if (!missing.isEmpty()) {
        throw new PublishException(
            PbException.Code.NO_SUCH_OBJECT,
            "service " + reply.serverId() + "/" + reply.service() + " publishes no object "
                + String.join(", ", missing));
      }
    }

    private SnapshotKey key(String identity) {
      try {
        return new SnapshotKey(reply.serverId(), reply.service(), reply.perspectiveKey(), identity);
      } catch (IllegalArgumentException e) {
        throw new PublishException(
            PbException.Code.PROTOCOL_ERROR, "the server named a key the store refuses: "
                + e.getMessage(), e);
      }
    }

    /**
     * Applies a state from the server. The object is marked activated only after its state is
     * written to the store, so a push arriving meanwhile is held and applied (and stored) after
     * the older state, never overwritten by it.
     */
    private void activateFresh(RemotePublished r, SnapshotKey key, WireState w) {
      if (!r.tryApply(w.state(), w.format(), w.version())) {
        throw new PublishException(
            PbException.Code.ACTIVATION_FAILED,
            r.getClass().getName() + " could not apply the state of " + w.identity() + " v"
                + w.version() + " from the server");
      }
      toStore.put(key, Snapshot.of(w.version(), w.format(), w.state()));
      awaitingWrite.add(() -> {
        WireState push = r.markActivated(key, store, w.version(), w.revision(), false);
        announce.add(() -> r.announce(push));
      });
      done(w.state().length);
      if (toStore.size() >= STORE_BATCH) {
        writeBatch();
      }
    }

    private void done(int bytes) {
      objectsDone++;
      bytesDone += bytes;
      if (progress != null) {
        long n = objects.size();
        if (objectsDone == n || objectsDone % Math.max(1, n / 100) == 0) {
          progress.accept(new ActivationProgress(objectsDone, n, bytesDone, bytesTotal));
        }
      }
    }

    private void writeBatch() {
      if (toStore.isEmpty()) {
        return;
      }
      long dropped = store.stats().droppedWrites();
      store.putAll(Map.copyOf(toStore));
      if (store.stats().droppedWrites() != dropped) {
        // The write-behind queue was full: wait for it to drain once and try again. A batch
        // dropped twice only costs a refetch next session (a dropped key reads as a miss).
        store.flush();
        store.putAll(Map.copyOf(toStore));
      }
      toStore.clear();
      for (Runnable mark : awaitingWrite) {
        mark.run();
      }
      awaitingWrite.clear();
    }

    private Attachment finish() {
      writeBatch();
      if (progress != null && objects.isEmpty()) {
        progress.accept(new ActivationProgress(0, 0, 0, 0));
      }
      for (Runnable a : announce) {
        a.run();
      }
      return new Attachment(
          reply.serverId(), reply.service(), reply.perspectiveKey(), objects, hits, inlined,
          fetched, extraCalls, proven ? reply.proof() : null, proven ? reply.granted() : null);
    }

    private RuntimeException fail(RuntimeException e) {
      for (Object o : reply.objects()) {
        if (o instanceof RemotePublished r && !r.isActivated()) {
          r.fail(e);
          if (r.isConnected()) {
            r.release();    // so a later attach on this connection gets a fresh object
          }
        }
      }
      return e;
    }
  }


  /** Builds a {@link PublishedClient}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private SnapshotStore store;
    private Mode mode;
    private String expectedServerId;
    private String perspectiveKey;
    private Consumer<ActivationProgress> progress;
    private boolean retainStates;
    private boolean allowUnproven;
    private ServerKey relayKey;
    private Clock clock;

    private Builder() {}

    /**
     * Accepts a server id that the server does not prove (it sends no proof: a server with an
     * {@link PublishingService.Builder#unprovenServerId}, a relay without delegation), as
     * before ids were proven: for trusted networks only, because any server there can claim any
     * id, and a client's cache is then only as good as the network. Each such attach logs a
     * warning naming the server. A proof that is sent and fails is refused all the same.
     */
    public Builder allowUnprovenServerIds() {
      if (allowUnproven) {
        throw new IllegalStateException(
            "PublishedClient.Builder.allowUnprovenServerIds was already set");
      }
      allowUnproven = true;
      return this;
    }

    /** Sends this key as a relay's with every attach (for {@link Relay}). */
    Builder relayKey(ServerKey key) {
      once("relayKey", relayKey);
      relayKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /** The clock delegations are checked against (tests). */
    Builder clock(Clock clock) {
      once("clock", this.clock);
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Objects keep the bytes of their state (for a {@link Relay} to pass on). */
    Builder retainStates() {
      retainStates = true;
      return this;
    }

    /** The local store (required); the caller owns it and closes it. */
    public Builder store(SnapshotStore store) {
      once("store", this.store);
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The handshake; default {@link Mode#INVENTORY}. */
    public Builder mode(Mode mode) {
      once("mode", this.mode);
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The origin server id this client expects (required in {@link Mode#INVENTORY}, which lists
     * the store under it): the id a {@link ServerKey} derives, as the server prints it. An
     * attach to a server with another id fails with {@link
     * PbException.Code#SERVER_ID_MISMATCH}, and one that does not prove this id with {@link
     * PbException.Code#SERVER_ID_NOT_PROVEN}, before any state is used.
     */
    public Builder expectedServerId(String serverId) {
      once("expectedServerId", this.expectedServerId);
      this.expectedServerId = Objects.requireNonNull(serverId, "serverId");
      return this;
    }

    /**
     * The perspective key the server will name for this connection, used to list the inventory:
     * {@link PublishingService#loggedInKey loggedInKey(name)} where the server's {@code
     * perspectiveKey} function names the logged-in avatar {@code name}. Default {@value
     * PublishingService#ANONYMOUS} (no login). If the server names another, it ignores the
     * inventory and sends every state in full, stored under the key it named.
     */
    public Builder perspectiveKey(String key) {
      once("perspectiveKey", this.perspectiveKey);
      this.perspectiveKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /** Told of activation progress, on the executor, about every 1% and at the end. */
    public Builder progress(Consumer<ActivationProgress> listener) {
      once("progress", this.progress);
      this.progress = Objects.requireNonNull(listener, "listener");
      return this;
    }

    public PublishedClient build() {
      if (store == null) {
        throw new IllegalStateException("PublishedClient.Builder needs a store");
      }
      if ((mode == null || mode == Mode.INVENTORY) && expectedServerId == null) {
        throw new IllegalStateException(
            "PublishedClient.Builder: mode INVENTORY needs expectedServerId (the store is listed"
                + " under it); set it, or use mode VERSIONS");
      }
      return new PublishedClient(this);
    }

    private static void once(String option, Object current) {
      Builders.requireUnset("PublishedClient.Builder", option, current);
    }
  }
}
