package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.Referenceable;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.Builders;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The server side of publishing: a named service of {@link Publishable} objects offered by a
 * server with a stable id, and the endpoint through which clients attach to it.
 *
 * <p>The server id goes into every client's store key. It is derived from the server's {@link
 * ServerKey} ({@link Builder#serverKey}), and every attach answer proves that this server holds
 * that key (a signature over the client's fresh nonce, bound to the connection's TLS certificate
 * when TLS is on), so no other server can claim the id: clients neither trust nor store anything
 * under an id that was not proven. Keep the key (e.g. {@link ServerKey#readOrCreate}) so that a
 * restarted server keeps its id and its clients' caches. On a trusted network a server may claim
 * an id without proof ({@link Builder#unprovenServerId}); clients accept it only when they allow
 * unproven ids.
 *
 * <pre>{@code
 * PublishingService world = PublishingService.builder()
 *     .serverKey(ServerKey.readOrCreate(dataDir.resolve("server-key.pem")))
 *     .service("world")
 *     .perspectiveKey(p -> ((Player) p).name())     // only needed with logged-in perspectives
 *     .build();
 * world.publish(new Tile("tile-0-0", "grass", 1));
 * PbServer server = PbServer.builder().port(7000).registry(registry)
 *     .root(world.endpoint())            // one endpoint for every connection; or return it
 *     .build().start();                  // from your avatar after a login
 * System.out.println("server id " + world.serverId());    // what clients expect
 * }</pre>
 *
 * <p>Relays re-publish a service under the origin's id: {@link Builder#delegateToRelays} says
 * which perspectives may relay, and those get a delegation certificate in their attach answer
 * (see {@link Relay}).
 *
 * <p>An origin cluster serves one world from several servers (members) that share the server key
 * and the service name, so a client's store is valid on any of them. {@link Builder#members}
 * tells clients where the members are: the endpoint's {@code members()} answers the list, and a
 * {@link PublishedClient.Builder#learnMembers learning client} dials another member when its own
 * is lost.
 *
 * <p>Objects published or unpublished while clients are attached are announced to their live
 * attachments (see {@link Attachment}); {@link #batch} groups one tick's changes.
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

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(PublishingService.class);

  /** The most members the endpoint's {@code members()} answers; the supplier's rest is cut. */
  public static final int MAX_MEMBERS = 64;

  /** The longest member address ({@code host:port}) the endpoint answers, in characters. */
  public static final int MAX_MEMBER_LENGTH = 300;

  /** How long a delegation lasts by default ({@link Builder#delegationLifetime}). */
  public static final Duration DEFAULT_DELEGATION_LIFETIME = Duration.ofHours(24);

  private final String serverId;
  /** Replaced when a relay re-attaches upstream and gets a new delegation. */
  private volatile IdProof.Prover prover;
  private final Predicate<Object> mayRelay;
  private final Duration delegationLifetime;
  private final Clock clock;
  private final AtomicBoolean expiryLogged = new AtomicBoolean();
  private final AtomicBoolean announceFailures = new AtomicBoolean();
  private final String service;
  private final Function<Object, String> perspectiveKey;
  private final String fixedPerspectiveKey;
  private final VersionCounter versions;
  private final ConcurrentSkipListMap<String, Publishable> objects = new ConcurrentSkipListMap<>();
  private final Map<PbConnection, Peer> peers = new ConcurrentHashMap<>();
  private final Executor announcer;
  /** Where clients reach the members of this service's cluster; null when not configured. */
  private final java.util.function.Supplier<List<String>> members;
  private final AtomicBoolean membersCutLogged = new AtomicBoolean();
  /** Depth of {@link #batch} calls on this thread: announcements wait for the outermost end. */
  private final ThreadLocal<int[]> batchDepth = ThreadLocal.withInitial(() -> new int[1]);
  private final Referenceable sharedEndpoint = new Endpoint(null);

  /** The connection whose announcement this thread is encoding (see {@link #isAnnouncing}). */
  private static final ThreadLocal<PbConnection> ANNOUNCING = new ThreadLocal<>();

  /** Objects per announcement message. */
  static final int ANNOUNCE_BATCH = 1000;

  /** {@link #sendModeFor}: send the whole state. */
  static final int FULL = -2;

  /** {@link #sendModeFor}: send the version only (versions mode). */
  static final int VERSION_ONLY = -1;

  /** {@link #sendModeFor}: the object is sent outside an attach; refuse to send it. */
  static final int REFUSED = -3;

  /**
   * What one call that answers objects (an attach, an interest change) said the client holds:
   * identity to its position in the call's arrays, or nothing (send versions only); entries are
   * consumed as the answer's states are encoded.
   */
  private static final class Inventory {
    final long[] versions;
    final Map<String, Integer> positions;
    /** States of the answer not yet taken; at 0 the inventory is dropped. */
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

  /** What the service keeps for one connection: the answer being encoded, the subscription. */
  private final class Peer {
    final PbConnection connection;
    volatile Inventory inventory;
    @GuardedBy("this")
    Subscriber subscriber;

    Peer(PbConnection connection) {
      this.connection = connection;
    }

    synchronized Subscriber subscriber() {
      return subscriber;
    }

    /** Makes {@code s} the connection's subscription (one attach per connection at a time). */
    void subscribe(Subscriber s) {
      Subscriber old;
      synchronized (this) {
        old = subscriber;
        subscriber = s;
      }
      if (old != null) {
        old.close();
      }
    }

    void close() {
      subscribe(null);
    }
  }

  /**
   * One live attachment: the client's sink for announcements, what it is interested in, and the
   * announcements not yet sent. Announcements are sent in order, from the {@link #announcer},
   * one batch of consecutive publishes or unpublishes per message.
   */
  private final class Subscriber {
    final PbConnection connection;
    final RemoteReference sink;
    @GuardedBy("this")
    Set<String> interest;
    @GuardedBy("this")
    final Set<String> excluded = new HashSet<>();
    /** {@link Publishable}s to announce as published, identities ({@code String}) as gone. */
    @GuardedBy("this")
    final ArrayDeque<Object> pending = new ArrayDeque<>();
    @GuardedBy("this")
    boolean scheduled;
    @GuardedBy("this")
    boolean closed;
    /**
     * Held while published objects are filtered by {@link #wants} and sent, and while the
     * interest shrinks: once {@link #shrink} returns (and the interest call answers), no
     * announcement of a dropped identity is written any more, so every one the client gets was
     * written before the answer. Taken before {@code this}, never inside it.
     */
    private final Object sending = new Object();

    Subscriber(PbConnection connection, RemoteReference sink, Set<String> interest) {
      this.connection = connection;
      this.sink = sink;
      this.interest = interest;
    }

    synchronized boolean wants(String identity) {
      return !closed && (interest == null ? !excluded.contains(identity)
          : interest.contains(identity));
    }

    /** The identities of {@code ids} this subscription does not cover yet, in order. */
    synchronized String[] notCovered(String[] ids) {
      List<String> out = new ArrayList<>(ids.length);
      for (String id : ids) {
        if (id != null && (interest == null ? excluded.contains(id) : !interest.contains(id))) {
          out.add(id);
        }
      }
      return out.toArray(new String[0]);
    }

    synchronized void grow(Collection<String> identities) {
      if (interest == null) {
        identities.forEach(excluded::remove);    // not removeAll: List.contains per element
      } else {
        interest.addAll(identities);
      }
    }

    void shrink(Collection<String> identities) {
      if (identities.isEmpty()) {
        return;
      }
      synchronized (sending) {    // waits for an announcement being sent: see sending
        synchronized (this) {
          if (closed) {
            return;
          }
          if (interest == null) {
            for (String id : identities) {
              // only published identities: bounded by the service's size (a sorted map: no null)
              if (id != null && objects.containsKey(id)) {
                excluded.add(id);
              }
            }
          } else {
            identities.forEach(interest::remove); // not removeAll: O(set x list) for a long list
          }
        }
        // Told in the stream of announcements: after every one written before the shrink, before
        // every one after it, so the client knows exactly which ones to ignore.
        sink.callRemoteOneWay(Announcements.DROPPED, (Object) identities.toArray(new String[0]));
      }
    }

    /** An identity was unpublished: the subscription holds nothing of it any more. */
    synchronized void forget(String identity) {
      if (interest != null) {
        interest.remove(identity);
      } else {
        excluded.remove(identity);
      }
    }

    /** Queues an announcement; returns true if a flush must be scheduled now. */
    synchronized boolean enqueue(Object event) {
      if (closed) {
        return false;
      }
      pending.add(event);
      return !scheduled && batchDepth.get()[0] == 0 && (scheduled = true);
    }

    synchronized boolean scheduleIfPending() {
      return !closed && !pending.isEmpty() && !scheduled && (scheduled = true);
    }

    void schedule() {
      try {
        announcer.execute(this::flush);
      } catch (RuntimeException e) {
        synchronized (this) {
          scheduled = false;
        }
        log.warn("{}: could not schedule announcements for service {}: {}", connection, service,
            e.toString());
      }
    }

    synchronized void close() {
      closed = true;
      pending.clear();
      if (sink.isConnected()) {
        sink.release();
      }
    }

    /** Sends what is pending, in order; one flush at a time per subscriber. */
    void flush() {
      while (true) {
        List<Object> batch = new ArrayList<>();
        boolean gone;
        synchronized (this) {
          if (closed || pending.isEmpty()) {
            scheduled = false;
            return;
          }
          gone = pending.peek() instanceof String;
          while (!pending.isEmpty() && batch.size() < ANNOUNCE_BATCH
              && (pending.peek() instanceof String) == gone) {
            batch.add(pending.poll());
          }
        }
        if (gone) {
          sink.callRemoteOneWay(Announcements.UNPUBLISHED,
              (Object) batch.toArray(new String[0]));
        } else {
          sendPublished(batch);
        }
      }
    }

    private void sendPublished(List<Object> batch) {
      synchronized (sending) {
        // queued before the object was unpublished or dropped: announced no more
        batch.removeIf(o -> objects.get(((Publishable) o).identity()) != o
            || !wants(((Publishable) o).identity()));
        sendWanted(batch);
      }
    }

    private void sendWanted(List<Object> batch) {
      if (batch.isEmpty()) {
        return;
      }
      CompletableFuture<Void> sent;
      ANNOUNCING.set(connection);
      try {
        sent = sink.callRemoteOneWay(Announcements.PUBLISHED, batch);
      } finally {
        ANNOUNCING.remove();
      }
      if (sent.isCompletedExceptionally() && !sent.isCancelled() && connection.isOpen()) {
        Throwable cause = PbException.unwrap(sent.handle((v, t) -> t).join());
        if (batch.size() > 1) {
          // Too large for one message, or one object's state could not be taken: halve until
          // only what fails is left out.
          sendPublished(new ArrayList<>(batch.subList(0, batch.size() / 2)));
          sendPublished(new ArrayList<>(batch.subList(batch.size() / 2, batch.size())));
        } else if (announceFailures.compareAndSet(false, true)) {
          log.warn("{}: announcing {} of service {} failed, left out: {} (logged once per"
                  + " service)", connection, ((Publishable) batch.get(0)).identity(), service,
              cause.toString());
        }
      }
    }
  }

  private PublishingService(Builder b) {
    this.serverId = b.serverId;
    this.prover = b.prover;
    this.mayRelay = b.mayRelay;
    this.delegationLifetime =
        b.delegationLifetime == null ? DEFAULT_DELEGATION_LIFETIME : b.delegationLifetime;
    this.clock = b.clock == null ? Clock.systemUTC() : b.clock;
    this.service = b.service;
    this.perspectiveKey = b.perspectiveKey;
    this.fixedPerspectiveKey = b.fixedPerspectiveKey;
    this.versions = b.versions;
    this.announcer = b.announcer == null ? ForkJoinPool.commonPool() : b.announcer;
    this.members = b.members;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The origin server's id, as it appears in clients' store keys and pb:// references: derived from
   * the server key (a relay's service has its origin's), or the claimed id of an unproven service.
   */
  public String serverId() {
    return serverId;
  }

  /**
   * Whether attach answers prove the server id (a server key, or a relay holding a delegation);
   * false for an id claimed with {@link Builder#unprovenServerId}.
   */
  public boolean isProven() {
    return prover != null;
  }

  /** The service name. */
  public String service() {
    return service;
  }

  /**
   * A relay's service: proves the origin's id with {@code relayProver} from now on (the
   * delegation a re-attach upstream got), or proves nothing if it is null.
   */
  void replaceProver(IdProof.Prover relayProver) {
    prover = relayProver;
    expiryLogged.set(false);
  }

  /**
   * Publishes objects: clients attaching from now on receive them, and so does every live
   * attachment that covers them (an attach to the whole service; not one to a subset), announced
   * asynchronously in batches ({@link Attachment#onPublished}). An object without a version gets
   * one from this service's counter.
   *
   * @throws IllegalArgumentException if another object already has one of their identities (the
   *     objects before it are published)
   */
  public void publish(Publishable... published) {
    List<Publishable> added = new ArrayList<>(published.length);
    try {
      for (Publishable p : published) {
        Objects.requireNonNull(p, "published");
        p.attachTo(this);
        Publishable old = objects.putIfAbsent(p.identity(), p);
        if (old != null && old != p) {
          throw new IllegalArgumentException(
              "service " + service + " already publishes identity " + p.identity());
        }
        if (old == null) {
          added.add(p);
        }
      }
    } finally {
      announce(added);
    }
  }

  /** Publishes every object of {@code published}. */
  public void publishAll(Collection<? extends Publishable> published) {
    publish(published.toArray(new Publishable[0]));
  }

  /**
   * Withdraws the object with {@code identity}: new attaches do not receive it, and every live
   * attachment that holds it is told ({@link Attachment#onUnpublished}): the client removes it
   * from the attachment and from its store. Its observers get no more pushes.
   */
  public Optional<Publishable> unpublish(String identity) {
    Publishable p = objects.remove(Objects.requireNonNull(identity, "identity"));
    if (p != null) {
      p.detachFrom(this);
      p.forgetObservers();
      announce(List.of(identity));
    }
    return Optional.ofNullable(p);
  }

  /**
   * Runs {@code changes} (publishes and unpublishes, say one tick of a game) and announces what it
   * did to each live attachment at the end, in a few messages rather than one per change (up to
   * {@value #ANNOUNCE_BATCH} objects each). Nested batches announce at the end of the outermost.
   * Announcements made outside a batch are sent soon after, on the announcer, also batched with
   * whatever else is waiting.
   */
  public void batch(Runnable changes) {
    int[] depth = batchDepth.get();
    depth[0]++;
    try {
      changes.run();
    } finally {
      if (--depth[0] == 0) {
        for (Peer peer : peers.values()) {
          Subscriber s = peer.subscriber();
          if (s != null && s.scheduleIfPending()) {
            s.schedule();
          }
        }
      }
    }
  }

  /** Queues announcements of published objects or gone identities for every subscriber. */
  private void announce(List<?> events) {
    if (events.isEmpty()) {
      return;
    }
    for (Peer peer : peers.values()) {
      Subscriber s = peer.subscriber();
      if (s == null) {
        continue;
      }
      boolean schedule = false;
      for (Object e : events) {
        String id = e instanceof Publishable p ? p.identity() : (String) e;
        boolean wanted = s.wants(id);
        if (e instanceof String gone) {
          s.forget(gone);    // an identity it dropped too: a new object under it is new
        }
        if (wanted) {
          schedule |= s.enqueue(e);
        }
      }
      if (schedule) {
        s.schedule();
      }
    }
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
   * The remote object through which clients attach ({@link PublishedClient#attach}), shared by
   * every connection: make it the root ({@code root(service.endpoint())}) or return it from
   * your root or avatar. Each call learns its connection from {@link io.pbj.CallContext}, and the
   * service keeps per connection what the client said it holds and what it attached to.
   */
  public Referenceable endpoint() {
    return sharedEndpoint;
  }

  /**
   * An endpoint for one connection, for a root factory ({@code rootFactory(service::endpoint)});
   * it answers as {@link #endpoint()} does.
   */
  public Referenceable endpoint(PbConnection connection) {
    Objects.requireNonNull(connection, "connection");
    peer(connection);
    return new Endpoint(connection);
  }

  /** The connection's peer state, made on its first call; dropped when it closes. */
  private Peer peer(PbConnection connection) {
    Peer peer = peers.get(connection);
    if (peer != null) {
      return peer;
    }
    Peer made = new Peer(connection);
    peer = peers.putIfAbsent(connection, made);
    if (peer != null) {
      return peer;
    }
    // Outside putIfAbsent: onClose runs at once on a closed connection, and removes it again.
    connection.onClose(cause -> {
      peers.remove(connection, made);
      made.close();
    });
    return made;
  }

  /** Live attachments (connections that attached and are still open): for tests and metrics. */
  int subscriberCount() {
    int n = 0;
    for (Peer p : peers.values()) {
      if (p.subscriber() != null) {
        n++;
      }
    }
    return n;
  }

  /** Whether this thread is encoding an announcement for {@code connection}: states go in full. */
  static boolean isAnnouncing(PbConnection connection) {
    return ANNOUNCING.get() == connection;
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
   * #FULL}, {@link #VERSION_ONLY}, the position in the answering call's inventory of the entry that
   * holds the current version, or {@link #REFUSED} when no call that answers published objects
   * (an attach, an interest change) nor an announcement is being encoded for the connection.
   */
  int sendModeFor(PbConnection connection, String identity, long version, boolean resend) {
    if (isAnnouncing(connection)) {
      return FULL;
    }
    Peer peer = peers.get(connection);
    Inventory inv = peer == null ? null : peer.inventory;
    if (inv == null) {
      // A resend outside an answer: the whole state again, after pb-core coalesced updates.
      return resend ? FULL : REFUSED;
    }
    if (inv.unsent.decrementAndGet() <= 0 && peer.inventory == inv) {
      peer.inventory = null;    // the answer is encoded: nothing else may use its inventory
    }
    if (resend) {
      return FULL;    // the client has this object already; it keeps its copy
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
    /** The connection it serves, or null for the shared endpoint (the call's connection). */
    private final PbConnection bound;

    Endpoint(PbConnection bound) {
      this.bound = bound;
    }

    private PbConnection connection() {
      return bound != null ? bound : io.pbj.CallContext.current().connection();
    }

    /**
     * Attaches the caller: answers the published objects ({@code only} those identities when it
     * is non-null; unknown ones are left out), each sent in full unless the caller's inventory
     * says it holds the same version ({@code identities}/{@code versions} non-null, inventory
     * mode) or unless no inventory is given (versions mode: versions only). An inventory listed
     * under another perspective key than the server names is not used: versions go alone, and the
     * client compares them with its store under the key the answer names. With a {@code sink}
     * (the client's {@link Announcements} object) the attachment is live: later publishes and
     * unpublishes that concern it are announced to the sink. An identity named twice in {@code
     * only} is refused ({@code BAD_ARGUMENTS}).
     */
    @io.pbj.Remote
    public AttachReply attach(
        Object perspective,
        String expectedServerId,
        String expectedService,
        String claimedPerspectiveKey,
        String[] identities,
        long[] versions,
        String[] only,
        byte[] nonce,
        byte[] relayKey,
        RemoteReference sink) {
      PbConnection connection = connection();
      String key = perspectiveKeyOf(perspective);
      ServerProof proof = prove(connection, key, nonce);
      if ((expectedServerId != null && !expectedServerId.equals(serverId))
          || !service.equals(expectedService)) {
        return new AttachReply(serverId, service, key, false, List.of(), proof, null);
      }
      Delegation granted = relayKey == null ? null : delegate(connection, perspective, key,
          relayKey);
      boolean inventoryMode = identities != null && versions != null;
      boolean inventoryUsed = inventoryMode && key.equals(claimedPerspectiveKey)
          && expectedServerId != null && identities.length == versions.length;
      if (only != null) {
        requireDistinct("attach", only);
      }
      Peer peer = peer(connection);
      // Subscribe before the objects are listed: what is published meanwhile is announced too
      // (the client ignores an announcement of an object it already has).
      Subscriber subscriber = sink == null ? null
          : new Subscriber(connection, sink, only == null ? null : new HashSet<>());
      peer.subscribe(subscriber);
      List<Object> answered = answer(only);
      if (subscriber != null && only != null) {
        List<String> found = new ArrayList<>(answered.size());
        for (Object o : answered) {
          found.add(((Publishable) o).identity());
        }
        subscriber.grow(found);
      }
      Inventory inv = answered.isEmpty() ? null
          : new Inventory(inventoryUsed ? identities : null, versions, answered.size());
      peer.inventory = inv;
      return new AttachReply(serverId, service, key, inventoryUsed, answered, proof, granted);
    }

    /**
     * Changes what a live attachment covers, in one call: {@code add} are answered as an attach
     * answers them (each in full unless {@code held}/{@code heldVersions}, the client's inventory
     * of them, holds the current version; versions only when {@code held} is null), and from
     * now on announced; {@code drop} are announced no more (the client releases them itself, so
     * they get no more pushes). Unknown identities in {@code add} are left out of the answer. An
     * identity named twice in {@code add} is refused ({@code BAD_ARGUMENTS}).
     */
    @io.pbj.Remote
    public List<Object> interest(
        Object perspective, String[] add, String[] held, long[] heldVersions, String[] drop) {
      PbConnection connection = connection();
      Peer peer = peer(connection);
      Subscriber s = peer.subscriber();
      if (s == null) {
        throw new PbException(PbException.Code.BAD_ARGUMENTS,
            "interest: this connection has no live attachment to service " + service
                + "; attach first");
      }
      if (add == null) {
        throw new PbException(PbException.Code.BAD_ARGUMENTS,
            "interest: add must be an array (empty to add nothing), not null");
      }
      requireDistinct("interest", add);
      if (drop != null) {
        s.shrink(Arrays.asList(drop));
      }
      // What the attachment covers already was sent (or is announced): asking again, call after
      // call, must not be a way to make the server send whole states for a few bytes each.
      List<Object> answered = answer(s.notCovered(add));
      List<String> found = new ArrayList<>(answered.size());
      for (Object o : answered) {
        found.add(((Publishable) o).identity());
      }
      s.grow(found);    // published identities only: the interest never outgrows the service
      boolean inventory = held != null && heldVersions != null
          && held.length == heldVersions.length;
      peer.inventory = answered.isEmpty() ? null
          : new Inventory(inventory ? held : null, inventory ? heldVersions : null,
              answered.size());
      return answered;
    }

    private List<Object> answer(String[] only) {
      if (only == null) {
        return new ArrayList<>(objects.values());
      }
      List<Object> answered = new ArrayList<>(only.length);
      for (String id : only) {
        Publishable p = id == null ? null : objects.get(id);
        if (p != null) {
          answered.add(p);
        }
      }
      return answered;
    }

    /** The proof of this server's id for the caller's {@code nonce}; null if there is none. */
    private ServerProof prove(PbConnection connection, String key, byte[] nonce) {
      IdProof.Prover prover = PublishingService.this.prover;
      if (nonce == null || prover == null) {
        return null;
      }
      if (nonce.length != IdProof.NONCE_BYTES) {
        throw new IllegalArgumentException("attach: the nonce must be " + IdProof.NONCE_BYTES
            + " bytes, got " + nonce.length);
      }
      if (prover.expiresAt() <= clock.millis()) {
        if (expiryLogged.compareAndSet(false, true)) {
          log.warn("this relay's delegation for server {} service {} expired at {}: its attach"
                  + " answers prove nothing, and clients refuse them unless they allow unproven"
                  + " ids; attach a new Relay upstream to renew it",
              serverId, service, java.time.Instant.ofEpochMilli(prover.expiresAt()));
        }
        return null;
      }
      return prover.prove(serverId, service, key, nonce, IdProof.bindingOf(connection));
    }

    /** A delegation for the caller's relay key, if its perspective may relay; else null. */
    private Delegation delegate(
        PbConnection connection, Object perspective, String key, byte[] relayKey) {
      try {
        IdProof.decodePublicKey(relayKey);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("attach: the relay key " + e.getMessage());
      }
      IdProof.Prover prover = PublishingService.this.prover;
      if (prover == null || mayRelay == null || !mayRelay.test(perspective)) {
        log.debug("{} asked to relay {}/{} as {}; not delegated", connection, serverId, service,
            key);
        return null;
      }
      long expiresAt = clock.millis() + delegationLifetime.toMillis();
      Delegation d = prover.delegate(serverId, service, key, relayKey, expiresAt);
      if (d == null) {
        log.warn("{} asked to relay {}/{} behind {} relays already, the most a chain may hold;"
            + " not delegated", connection, serverId, service, IdProof.MAX_CHAIN);
      }
      return d;
    }

    /**
     * Where clients can reach the members of this service's origin cluster, as {@code host:port}
     * strings ({@link Builder#members}); empty when not configured. At most {@link #MAX_MEMBERS}
     * entries of at most {@link #MAX_MEMBER_LENGTH} characters.
     */
    @io.pbj.Remote
    public List<String> members(Object perspective) {
      return new ArrayList<>(memberList());
    }

    /**
     * The full states of {@code identities}, in order; null for an identity not published. An
     * identity named twice is refused ({@code BAD_ARGUMENTS}), so an answer holds each published
     * state at most once.
     */
    @io.pbj.Remote
    public List<Object> fetch(Object perspective, String[] identities) {
      PbConnection connection = connection();
      requireDistinct("fetch", identities);
      List<Object> states = new ArrayList<>(identities.length);
      for (String id : identities) {
        Publishable p = id == null ? null : objects.get(id);
        states.add(p == null ? null : p.fetchState(perspective, connection));
      }
      return states;
    }
  }

  /**
   * The member addresses the supplier gives, bounded: at most {@link #MAX_MEMBERS}, each a
   * non-null string of at most {@link #MAX_MEMBER_LENGTH} characters; what is left out is logged
   * once per service. Empty when not configured or when the supplier fails (logged).
   */
  List<String> memberList() {
    if (members == null) {
      return List.of();
    }
    List<String> given;
    try {
      given = members.get();
    } catch (RuntimeException e) {
      log.warn("PublishingService {}: the members supplier failed; answering none", service, e);
      return List.of();
    }
    if (given == null) {
      return List.of();
    }
    List<String> answer = new ArrayList<>(Math.min(given.size(), MAX_MEMBERS));
    int cut = 0;
    for (String m : given) {
      if (m == null || m.isEmpty() || m.length() > MAX_MEMBER_LENGTH
          || answer.size() >= MAX_MEMBERS) {
        cut++;
      } else {
        answer.add(m);
      }
    }
    if (cut > 0 && membersCutLogged.compareAndSet(false, true)) {
      log.warn("PublishingService {}: the members supplier gave {} entries; {} left out (empty,"
              + " longer than {} characters, or beyond the first {}); logged once", service,
          given.size(), cut, MAX_MEMBER_LENGTH, MAX_MEMBERS);
    }
    return answer;
  }

  /**
   * Refuses a request that names one identity twice: a client never does, and each repeat would
   * be answered with a whole state, turning a small request into an answer as large as the world
   * times the repeats.
   */
  private static void requireDistinct(String call, String[] identities) {
    Set<String> named = new HashSet<>();
    for (String id : identities) {
      if (id != null && !named.add(id)) {
        throw new PbException(
            PbException.Code.BAD_ARGUMENTS,
            call + " names identity '" + id + "' more than once");
      }
    }
  }

  /** Builds a {@link PublishingService}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private String serverId;
    private ServerKey serverKey;
    private String unprovenServerId;
    private IdProof.Prover prover;
    private Predicate<Object> mayRelay;
    private Duration delegationLifetime;
    private Clock clock;
    private String service;
    private Function<Object, String> perspectiveKey;
    private String fixedPerspectiveKey;
    private Long firstVersion;
    private java.nio.file.Path versionEpochFile;
    private VersionCounter versions;
    private Executor announcer;
    private java.util.function.Supplier<List<String>> members;

    private Builder() {}

    /**
     * Where clients can reach the members of this service's origin cluster (the servers that
     * publish the same world under the same {@link #serverKey}), as {@code host:port} or {@code
     * [ipv6]:port} strings; asked on each {@code members()} call of the endpoint, so it may
     * change (a cluster's current member list). Learning clients ({@link
     * PublishedClient.Builder#learnMembers}) dial another of them when their member is lost. At
     * most {@link #MAX_MEMBERS} entries of at most {@link #MAX_MEMBER_LENGTH} characters are
     * answered; the rest is left out, logged once. Default: none.
     */
    public Builder members(java.util.function.Supplier<List<String>> members) {
      once("members", this.members);
      this.members = Objects.requireNonNull(members, "members");
      return this;
    }

    /**
     * Where announcements to live attachments are encoded and sent (each live attachment's in
     * order, one at a time). Default: {@link ForkJoinPool#commonPool()}. Never a Netty event loop.
     */
    public Builder announcer(Executor executor) {
      once("announcer", announcer);
      announcer = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * The server's key (this or {@link #unprovenServerId} is required): the server id is derived
     * from it ({@link ServerKey#serverId()}) and every attach answer proves it. Keep the key
     * across restarts ({@link ServerKey#readOrCreate}) to keep the id.
     */
    public Builder serverKey(ServerKey key) {
      once("serverKey", serverKey);
      serverKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /**
     * A server id claimed without proof, for trusted networks only: clients refuse it unless
     * they allow unproven ids ({@link PublishedClient.Builder#allowUnprovenServerIds}), because
     * any other server could claim it too. It must not have the form of a self-certifying id
     * ({@link ServerKey#isSelfCertifying}). Conflicts with {@link #serverKey}.
     */
    public Builder unprovenServerId(String id) {
      once("unprovenServerId", unprovenServerId);
      String checked = requirePart("unprovenServerId", id);
      if (ServerKey.isSelfCertifying(checked)) {
        throw new IllegalArgumentException("PublishingService.Builder.unprovenServerId " + checked
            + " has the form of a self-certifying id, which only its key may prove; use"
            + " serverKey(...) with that key, or claim another id");
      }
      unprovenServerId = checked;
      return this;
    }

    /**
     * Lets callers whose perspective {@code mayRelay} accepts (null: no login) relay this
     * service: when such a caller attaches with a relay key (a {@link Relay} does), its answer
     * carries a delegation certificate with which the relay proves this server's id to its own
     * clients, for this service and the caller's perspective key, until the certificate expires
     * ({@link #delegationLifetime}). Default: nobody may relay (relays serve unproven).
     */
    public Builder delegateToRelays(Predicate<Object> mayRelay) {
      once("delegateToRelays", this.mayRelay);
      this.mayRelay = Objects.requireNonNull(mayRelay, "mayRelay");
      return this;
    }

    /**
     * How long a delegation to a relay lasts (default {@link #DEFAULT_DELEGATION_LIFETIME}); a
     * relay renews it by attaching upstream again. A relay's own delegations never outlast its
     * own.
     */
    public Builder delegationLifetime(Duration lifetime) {
      once("delegationLifetime", delegationLifetime);
      Objects.requireNonNull(lifetime, "lifetime");
      if (lifetime.isNegative() || lifetime.isZero()) {
        throw new IllegalArgumentException(
            "PublishingService.Builder.delegationLifetime must be positive, got " + lifetime);
      }
      delegationLifetime = lifetime;
      return this;
    }

    /** The clock delegations are dated by (tests). */
    Builder clock(Clock clock) {
      once("clock", this.clock);
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** A relay's service: the origin's id, proven with the relay's delegation chain. */
    Builder relayOf(String originId, IdProof.Prover relayProver) {
      once("serverId", serverId);
      serverId = originId;
      prover = relayProver;
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
      if (serverKey != null && unprovenServerId != null) {
        throw new IllegalStateException(
            "PublishingService.Builder: serverKey and unprovenServerId conflict; set one");
      }
      if (serverKey != null) {
        serverId = serverKey.serverId();
        prover = IdProof.Prover.origin(serverKey);
      } else if (unprovenServerId != null) {
        serverId = unprovenServerId;
      }
      if (serverId == null) {
        throw new IllegalStateException("PublishingService.Builder needs a serverKey (or, on a"
            + " trusted network, an unprovenServerId)");
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
      Builders.requireUnset("PublishingService.Builder", option, current);
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
