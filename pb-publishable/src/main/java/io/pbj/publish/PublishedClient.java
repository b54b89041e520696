package io.pbj.publish;

import io.pbj.PbClient;
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
import java.net.InetSocketAddress;
import java.net.SocketAddress;
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
import java.util.concurrent.CompletionException;
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
 *       extra round trip. Needs the expected server id up front (the perspective key is learned).
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
 * <p>Against an origin cluster (several servers publishing one world under one server id, see
 * {@link PublishingService.Builder#members}), {@link Builder#learnMembers} keeps the addresses of
 * a {@link PbClient} current with the cluster's members, so that it reconnects to another member
 * when its own is lost, and re-attaches there from the store:
 *
 * <pre>{@code
 * AtomicReference<PublishedClient> publishing = new AtomicReference<>();
 * PbClient pb = PbClient.builder()
 *     .addresses(PbClient.parseAddresses("a.example.com:7000,b.example.com:7000"))
 *     .reconnect(ReconnectPolicy.defaults())
 *     .onSession(root -> publishing.get().attach(root, "world").thenApply(world -> root))
 *     .build();
 * publishing.set(PublishedClient.builder()
 *     .store(store).expectedServerId(serverId).learnMembers(pb).build());
 * pb.start();
 * }</pre>
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


  private final SnapshotStore store;
  private final Mode mode;
  private final String expectedServerId;
  /** The builder's perspective key, or null: learned from the server's answers. */
  private final String perspectiveKey;
  /** Perspective keys servers named, by server id and service (see {@link #claimedKey}). */
  private final Map<String, String> learnedKeys = new java.util.concurrent.ConcurrentHashMap<>();
  private final Consumer<ActivationProgress> progress;
  private final boolean retainStates;
  private final boolean allowUnproven;
  private final ServerKey relayKey;
  private final Clock clock;
  private final AttachEvents attachEvents;
  /** The client whose addresses learn the cluster's members, or null. */
  private final PbClient learner;

  private PublishedClient(Builder b) {
    this.store = b.store;
    this.mode = b.mode == null ? Mode.INVENTORY : b.mode;
    this.expectedServerId = b.expectedServerId;
    this.perspectiveKey = b.perspectiveKey;
    this.progress = b.progress;
    this.retainStates = b.retainStates;
    this.allowUnproven = b.allowUnproven;
    this.relayKey = b.relayKey;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.attachEvents = new AttachEvents(b.attachListener);
    this.learner = b.learner;
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
   * <p>The attachment is live: objects the server publishes or unpublishes later reach it
   * ({@link Attachment#onPublished}, {@link Attachment#onUnpublished}), and objects this client
   * stored for the service that the server no longer publishes are removed from the store.
   *
   * <p>Attach on one connection one at a time (wait for the answer before the next attach): the
   * server keeps one inventory and one live attachment per connection, which a second attach
   * replaces.
   */
  public CompletableFuture<Attachment> attach(RemoteReference endpoint, String service) {
    return attach(endpoint, service, null);
  }

  /**
   * Attaches to {@code service} through {@code endpoint} for the objects named by {@code
   * identities} only, and activates them, as {@link #attach(RemoteReference, String)} does. Fails
   * with {@link PbException.Code#NO_SUCH_OBJECT}, naming them, if the service publishes some
   * of them not. The attachment is live for these objects (their unpublishing reaches it) and may
   * grow and shrink ({@link Attachment#add}, {@link Attachment#drop}).
   *
   * @param identities the identities wanted; null means every object of the service
   */
  public CompletableFuture<Attachment> attach(
      RemoteReference endpoint, String service, Collection<String> identities) {
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(service, "service");
    CompletableFuture<Attachment> attached =
        attachEvents.watch(service, () -> attachNow(endpoint, service, identities));
    if (learner == null) {
      return attached;
    }
    // The attach completes first; the members are asked after, off its critical path.
    CompletableFuture<Attachment> result = new CompletableFuture<>();
    result.whenComplete((a, failure) -> {
      if (result.isCancelled()) {
        attached.cancel(false);
      }
    });
    attached.whenComplete((a, failure) -> {
      if (failure != null) {
        result.completeExceptionally(failure);
      } else {
        result.complete(a);
        learnMembers(endpoint);
      }
    });
    return result;
  }

  /**
   * Where the members of the origin cluster behind {@code endpoint} can be reached (its service's
   * {@link PublishingService.Builder#members}), as unresolved addresses. The answer is the
   * server's and is not trusted: at most {@link PbClient#MAX_ADDRESSES} entries are read, and
   * entries that are not {@code host:port} text of at most {@link PbClient#MAX_ADDRESS_LENGTH}
   * characters are skipped (logged at debug), duplicates too. Empty when the service names none,
   * or when the server is of a version without the call. Completes on the connection's executor;
   * fails only with the connection's failure.
   */
  public CompletableFuture<List<InetSocketAddress>> members(RemoteReference endpoint) {
    Objects.requireNonNull(endpoint, "endpoint");
    return endpoint.callRemote(MEMBERS_METHOD).handle((answer, failure) -> {
      if (failure != null) {
        Throwable t = PbException.unwrap(failure);
        if (t instanceof PbException pb && pb.code() == PbException.Code.NO_SUCH_METHOD) {
          return List.of();    // a server from before origin clusters
        }
        throw t instanceof CompletionException ce ? ce : new CompletionException(t);
      }
      return memberAddresses(answer, endpoint);
    });
  }

  /** The remote method of the endpoint that answers the members. */
  static final String MEMBERS_METHOD = "members";

  /** The addresses in an untrusted {@code members()} answer; see {@link #members}. */
  static List<InetSocketAddress> memberAddresses(Object answer, RemoteReference endpoint) {
    if (!(answer instanceof List<?> list)) {
      if (answer != null) {
        log.debug("{}: members() answered a {}, not a list; ignored", endpoint,
            answer.getClass().getName());
      }
      return List.of();
    }
    Map<String, InetSocketAddress> unique = new java.util.LinkedHashMap<>();
    int skipped = 0;
    String example = null;
    int n = Math.min(list.size(), PbClient.MAX_ADDRESSES);
    for (int i = 0; i < n; i++) {
      Object entry = list.get(i);
      try {
        if (!(entry instanceof String text)) {
          throw new IllegalArgumentException(
              "not a string: " + (entry == null ? "null" : entry.getClass().getName()));
        }
        InetSocketAddress a = PbClient.parseAddress(text);
        unique.putIfAbsent(
            a.getHostString().toLowerCase(java.util.Locale.ROOT) + " " + a.getPort(), a);
      } catch (IllegalArgumentException e) {
        skipped++;
        example = e.getMessage();
      }
    }
    if (skipped > 0 || list.size() > n) {
      log.debug("{}: members() answered {} entries; {} skipped (e.g. {}), {} beyond the first {}"
          + " ignored", endpoint, list.size(), skipped, example, list.size() - n, n);
    }
    return List.copyOf(unique.values());
  }

  /**
   * Asks the members through {@code endpoint} and gives them to the learning client, in an order
   * of this client's own (so that the clients of a lost member spread over the others), with the
   * client's current address kept.
   */
  private void learnMembers(RemoteReference endpoint) {
    members(endpoint).whenComplete((learned, failure) -> {
      if (failure != null) {
        log.debug("{}: could not learn the members: {}", endpoint, failure.toString());
        return;
      }
      if (learned.isEmpty()) {
        return;
      }
      List<InetSocketAddress> addresses = new ArrayList<>(learned);
      java.util.Collections.shuffle(addresses, java.util.concurrent.ThreadLocalRandom.current());
      SocketAddress current = learner.currentAddress();
      if (current instanceof InetSocketAddress inet && !containsHostAndPort(addresses, inet)) {
        if (addresses.size() >= PbClient.MAX_ADDRESSES) {
          addresses.remove(addresses.size() - 1);
        }
        addresses.add(0, inet);
      }
      try {
        learner.updateAddresses(addresses);
        log.debug("{}: learned members {}", endpoint, addresses);
      } catch (IllegalArgumentException | IllegalStateException e) {
        log.debug("{}: learned members not used: {}", endpoint, e.getMessage());
      }
    });
  }

  private static boolean containsHostAndPort(List<InetSocketAddress> list, InetSocketAddress a) {
    for (InetSocketAddress x : list) {
      if (x.getPort() == a.getPort() && x.getHostString().equalsIgnoreCase(a.getHostString())) {
        return true;
      }
    }
    return false;
  }

  private CompletableFuture<Attachment> attachNow(
      RemoteReference endpoint, String service, Collection<String> identities) {
    Set<String> wanted = identities == null ? null : new LinkedHashSet<>(identities);
    String claimed = claimedKey(service);
    Inventory inventory =
        mode == Mode.INVENTORY ? inventory(service, claimed, wanted) : Inventory.NONE;
    String[] only = wanted == null ? null : wanted.toArray(new String[0]);
    byte[] nonce = IdProof.newNonce();
    byte[] binding = IdProof.bindingOf(endpoint.connection());
    Announcements sink = new Announcements(endpoint.connection());
    return endpoint
        .callRemote(
            AttachReply.class, "attach", expectedServerId, service, claimed,
            inventory.identities(), inventory.versions(), only, nonce,
            relayKey == null ? null : relayKey.encodedPublicKey(), sink)
        .exceptionally(failure -> {
          throw notAnEndpoint(failure, service);
        })
        .thenCompose(reply -> {
          if (reply == null || reply.objects() == null || reply.serverId() == null
              || reply.service() == null || reply.perspectiveKey() == null) {
            throw new PublishException(PbException.Code.PROTOCOL_ERROR,
                "the attach answer is incomplete: " + reply);
          }
          return new AttachCall(endpoint, service, wanted, inventory, claimed, reply, nonce,
              binding, sink).run();
        })
        .whenComplete((attachment, failure) -> {
          if (failure != null) {
            sink.failed(failure);
          } else {
            sink.attached(attachment);
          }
        });
  }

  /**
   * A remote without an {@code attach} method is almost always the avatar or the root handed in
   * where the publishing endpoint was meant: say so, rather than only "no remote method".
   */
  private static CompletionException notAnEndpoint(Throwable failure, String service) {
    Throwable t = failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    if (t instanceof PbException pb && pb.code() == PbException.Code.NO_SUCH_METHOD) {
      return new CompletionException(new PublishException(PbException.Code.NO_SUCH_METHOD,
          "PublishedClient.attach(endpoint, \"" + service + "\"): the reference given is not a"
              + " publishing endpoint (it has no remote method 'attach'; is it the avatar or the"
              + " root?). Pass the PublishingService's endpoint(), which the server hands out,"
              + " e.g. avatar.callRemote(RemoteReference.class, \"publishingEndpoint\", \""
              + service + "\") in the README's example", pb));
    }
    return failure instanceof CompletionException ce ? ce : new CompletionException(t);
  }

  /** The perspective key to list the inventory under: the builder's, or the one learned. */
  private String claimedKey(String service) {
    if (perspectiveKey != null) {
      return perspectiveKey;
    }
    String learned = expectedServerId == null ? null
        : learnedKeys.get(expectedServerId + "\u0000" + service);
    return learned != null ? learned : PublishingService.ANONYMOUS;
  }

  /** What the store holds for one attach: identities and versions, no state. */
  record Inventory(String[] identities, long[] versions) {
    static final Inventory NONE = new Inventory(null, null);
  }

  private Inventory inventory(String service, String key, Set<String> wanted) {
    return inventoryOf(SnapshotPrefix.of(expectedServerId, service, key), wanted);
  }

  /** The store's entries under {@code prefix} ({@code wanted} ones only, if not null). */
  Inventory inventoryOf(SnapshotPrefix prefix, Set<String> wanted) {
    List<SnapshotEntry> held = store.list(prefix);
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

  Mode mode() {
    return mode;
  }

  boolean retainsStates() {
    return retainStates;
  }

  SnapshotStore store() {
    return store;
  }

  /**
   * Checks the objects of an answer (an attach, an announcement, an interest change) and turns
   * inventory positions into versions; {@code held}/{@code heldVersions} is the inventory the
   * call sent, or null.
   */
  static List<RemotePublished> received(
      List<Object> answered, String service, String[] held, long[] heldVersions) {
    Set<String> seen = new java.util.HashSet<>(answered.size() * 2);
    List<RemotePublished> objects = new ArrayList<>(answered.size());
    for (Object o : answered) {
      if (!(o instanceof RemotePublished r)) {
        throw new PublishException(
            PbException.Code.PROTOCOL_ERROR,
            "service " + service + " sent a "
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
      if (!r.resolveHeld(held, heldVersions)) {
        throw new PublishException(
            PbException.Code.PROTOCOL_ERROR,
            "service " + service + " answered an object as held by the client, but not"
                + " from the inventory the client sent");
      }
      if (r.identity() == null || !seen.add(r.identity())) {
        throw new PublishException(
            PbException.Code.PROTOCOL_ERROR,
            "service " + service + " answered "
                + (r.identity() == null ? "an object without identity"
                    : "identity " + r.identity() + " twice"));
      }
      objects.add(r);
    }
    return objects;
  }

  /** One attach call's answer: checked, then activated. */
  private final class AttachCall {
    final RemoteReference endpoint;
    final AttachReply reply;
    final String requestedService;
    final Set<String> wanted;
    final Inventory inventory;
    final String claimed;
    final byte[] nonce;
    final byte[] binding;
    final Announcements sink;
    boolean proven;

    AttachCall(
        RemoteReference endpoint,
        String requestedService,
        Set<String> wanted,
        Inventory inventory,
        String claimed,
        AttachReply reply,
        byte[] nonce,
        byte[] binding,
        Announcements sink) {
      this.endpoint = endpoint;
      this.requestedService = requestedService;
      this.wanted = wanted;
      this.inventory = inventory;
      this.claimed = claimed;
      this.reply = reply;
      this.nonce = nonce;
      this.binding = binding;
      this.sink = sink;
    }

    CompletableFuture<Attachment> run() {
      List<RemotePublished> objects;
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
        objects = received(reply.objects(), reply.service(),
            reply.inventoryUsed() ? inventory.identities() : null, inventory.versions());
        if (!requestedService.equals(reply.service())) {
          throw new PublishException(
              PbException.Code.NO_SUCH_SERVICE,
              "server " + reply.serverId() + " offers service " + reply.service() + ", not "
                  + requestedService);
        }
        if (wanted != null) {
          checkAnswered(objects);
        }
        learnKey();
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(Activation.failAll(reply.objects(), e));
      }
      Attachment attachment = new Attachment(PublishedClient.this, endpoint, reply.serverId(),
          reply.service(), reply.perspectiveKey(), proven ? reply.proof() : null,
          proven ? reply.granted() : null);
      Activation activation =
          new Activation(attachment, objects, false, progress, retainStates);
      return activation.run().thenApply(activated -> {
        // Only a proven server may make this client forget what it stored under the server's
        // id: an unproven one (allowUnprovenServerIds) could be anybody claiming it.
        int removed = wanted == null && attachment.proven() ? removeGone(attachment, activated) : 0;
        attachment.attached(activated, activation.hits, activation.inlined, activation.fetched,
            activation.extraCalls, removed);
        return attachment;
      });
    }

    /** The server named another perspective key than the one listed: use it from now on. */
    private void learnKey() {
      if (claimed.equals(reply.perspectiveKey())) {
        return;
      }
      if (expectedServerId != null) {
        learnedKeys.put(expectedServerId + "\u0000" + requestedService, reply.perspectiveKey());
      }
      if (perspectiveKey != null) {
        log.warn("server {} names this connection's perspective {} for service {}, not {} as"
                + " PublishedClient.Builder.perspectiveKey says: its objects are kept under {},"
                + " and this attach compared versions in one more call; set the key the server"
                + " names, or leave it unset (the client learns it)", reply.serverId(),
            reply.perspectiveKey(), reply.service(), claimed, reply.perspectiveKey());
      } else {
        log.debug("server {} names this connection's perspective {} for service {}: learned",
            reply.serverId(), reply.perspectiveKey(), reply.service());
      }
    }

    /** Removes the stored objects of the service the whole-service answer no longer has. */
    private int removeGone(Attachment attachment, List<RemotePublished> activated) {
      Set<String> answered = new java.util.HashSet<>(activated.size() * 2);
      for (RemotePublished r : activated) {
        answered.add(r.identity());
      }
      int removed = 0;
      for (SnapshotEntry e : store.list(SnapshotPrefix.of(
          reply.serverId(), reply.service(), reply.perspectiveKey()))) {
        if (!answered.contains(e.key().identity())) {
          store.remove(e.key());
          removed++;
        }
      }
      if (removed > 0) {
        log.debug("{}/{}: removed {} stored objects the server no longer publishes",
            reply.serverId(), reply.service(), removed);
      }
      return removed;
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
    private void checkAnswered(List<RemotePublished> objects) {
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
    private AttachListener attachListener;
    private PbClient learner;

    private Builder() {}

    /**
     * After each successful attach, asks the endpoint for the members of its origin cluster
     * ({@link PublishedClient#members}) and, if it names any, gives them to {@code client}
     * ({@link PbClient#updateAddresses}), which then reconnects to another member when its
     * connection is lost. The question is sent after the attach completes, never before its
     * activation; it costs one small call per attach. The list is put in a random order per
     * client, so that the clients of a lost member spread over the others, and keeps the address
     * {@code client} is connected to. {@code client} is the one the attaches go through (build it
     * first; it connects only when started).
     */
    public Builder learnMembers(PbClient client) {
      once("learnMembers", this.learner);
      this.learner = Objects.requireNonNull(client, "client");
      return this;
    }

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
     * perspectiveKey} function names the logged-in avatar {@code name}. Optional: without it the
     * client lists under the key this server named in its last answer (learned, in memory), or
     * {@value PublishingService#ANONYMOUS} the first time. If the server names another key, it
     * ignores the inventory and sends versions only, which the client compares with its store
     * under the key the server named (never reading one key's entries for another); a key set
     * here that the server contradicts is logged as a warning. Set it to save that version list
     * on a fresh process's first attach after a login.
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

    /**
     * Told of every attach as it ends, with its store hits and misses (see {@link
     * AttachListener}). Optional.
     */
    public Builder attachListener(AttachListener listener) {
      once("attachListener", this.attachListener);
      this.attachListener = Objects.requireNonNull(listener, "listener");
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
