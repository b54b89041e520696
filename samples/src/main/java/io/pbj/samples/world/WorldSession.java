package io.pbj.samples.world;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.ReconnectPolicy;
import io.pbj.RemoteReference;
import io.pbj.publish.ActivationProgress;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.RemotePublished;
import io.pbj.samples.world.WorldModel.Kind;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One client session of the world: connect over TCP, ask the root for the publishing endpoint,
 * attach to the world service with a {@link PublishedClient}, wait until every object is
 * activated, and measure what that cost on the connection. {@link #attach} closes the connection
 * before it returns (the objects stay usable); {@link #open} keeps it, and the attachment live,
 * until {@link #close}. Given several addresses (the members of an origin cluster), {@link
 * #open(List, SnapshotStore, String, PublishedClient.Mode, Consumer, Duration, Consumer)} keeps
 * the session attached across the loss of a member: the client dials the next member and
 * re-attaches from its store ({@link Reattach}).
 *
 * <pre>{@code
 * WorldSession.Result r = WorldSession.attach("127.0.0.1", 7000, store, serverId,
 *     PublishedClient.Mode.INVENTORY, bar, Duration.ofSeconds(60));
 * System.out.println(r.hits() + " hits, " + r.stale() + " stale, " + r.bytes() + " bytes");
 * }</pre>
 *
 * <p>Thread-safety: an open session is used by one thread; its attachment is thread-safe.
 */
final class WorldSession implements AutoCloseable {
  private final PbClient client;
  private final RemoteReference root;
  private final Result result;
  private final Duration timeout;
  private final Failover failover;

  private WorldSession(PbClient client, RemoteReference root, Result result, Duration timeout,
      Failover failover) {
    this.client = client;
    this.root = root;
    this.result = result;
    this.timeout = timeout;
    this.failover = failover;
  }

  /**
   * An attach after the first, on another connection (a member of an origin cluster died, or the
   * connection was lost): what it cost, and how many of the objects it found unchanged since the
   * client last had them were store hits (all of them, when the members agree on versions).
   *
   * @param number 1 for the first re-attach, and so on
   * @param address the member the client re-attached to
   * @param result the attach and what it cost
   * @param unchanged objects of the attach whose version at the member was the one the client's
   *     store held just before it (of those not updated between their activation and the end of
   *     the attach, whose first version is still known)
   * @param missed of the unchanged, those that came from the member rather than the store (0
   *     when every member serves the same versions)
   */
  record Reattach(int number, String address, Result result, int unchanged, int missed) {
    /** The line {@code world-client} prints for it. */
    String line() {
      Result r = result;
      return String.format(Locale.ROOT, "reattach n=%d at=%s objects=%d ms=%d bytes=%d hits=%d"
              + " unchanged=%d missed=%d stale=%d round_trips=%d",
          number, address, r.objects(), r.millis(), r.bytes(), r.hits(), unchanged, missed,
          r.stale(), r.roundTrips());
    }
  }

  /**
   * What one session cost. Bytes are what the client's connection counted on the wire ({@link
   * PbConnection#stats()}, framing included) from just before the attach call until every object
   * was activated; the time covers the same span (connecting is not included).
   *
   * @param attachment the activated objects and the handshake's counters
   * @param millis time from the attach call until every object was activated
   * @param bytesSent bytes the client sent in that time
   * @param bytesReceived bytes the client received in that time
   */
  record Result(Attachment attachment, long millis, long bytesSent, long bytesReceived) {
    int objects() {
      return attachment.objects().size();
    }

    /** Bytes sent plus received. */
    long bytes() {
      return bytesSent + bytesReceived;
    }

    /** Objects activated from the local store. */
    int hits() {
      return attachment.hits();
    }

    /** Objects whose state came from the server: inlined in the attach answer, or fetched. */
    int stale() {
      return attachment.inlined() + attachment.fetched();
    }

    /** Calls beyond the attach call (the batched fetch): 0 or 1. */
    int roundTrips() {
      return attachment.extraCalls();
    }

    Map<Kind, Integer> counts() {
      return Reports.counts(attachment);
    }
  }

  /**
   * Runs one session against the world server at {@code host:port} and closes its connection.
   *
   * @throws ExecutionException when connecting or attaching fails (the cause says why: a {@code
   *     PbException} for the connection, a {@code PublishException} for the handshake)
   * @throws TimeoutException when connecting or attaching takes longer than {@code timeout}
   */
  static Result attach(
      String host,
      int port,
      SnapshotStore store,
      String serverId,
      PublishedClient.Mode mode,
      Consumer<ActivationProgress> progress,
      Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    try (WorldSession s = open(host, port, store, serverId, mode, progress, timeout)) {
      return s.result();
    }
  }

  /**
   * Opens a session that stays attached (its attachment live) until {@link #close}.
   *
   * @throws ExecutionException when connecting or attaching fails
   * @throws TimeoutException when connecting or attaching takes longer than {@code timeout}
   */
  static WorldSession open(
      String host,
      int port,
      SnapshotStore store,
      String serverId,
      PublishedClient.Mode mode,
      Consumer<ActivationProgress> progress,
      Duration timeout)
      throws ExecutionException, TimeoutException, InterruptedException {
    PublishedClient.Builder b = PublishedClient.builder().store(store).mode(mode).progress(progress);
    if (serverId != null) {
      b.expectedServerId(serverId);
    }
    PublishedClient publishing = b.build();
    PbClient client = PbClient.builder()
        .address(host, port)
        .registry(WorldModel.registry())
        .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
        .build();
    try {
      long ms = timeout.toMillis();
      RemoteReference root = client.rootObject().get(ms, TimeUnit.MILLISECONDS);
      RemoteReference endpoint = root.callRemote(RemoteReference.class, "publishing")
          .get(ms, TimeUnit.MILLISECONDS);
      PbConnection connection = endpoint.connection();
      PbConnection.Stats before = connection.stats();
      long start = System.nanoTime();
      Attachment attachment = publishing.attach(endpoint, WorldModel.SERVICE)
          .get(ms, TimeUnit.MILLISECONDS);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      PbConnection.Stats after = connection.stats();
      Result r = new Result(attachment, millis, after.bytesSent() - before.bytesSent(),
          after.bytesReceived() - before.bytesReceived());
      return new WorldSession(client, root, r, timeout, null);
    } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** What the (first) attach cost, and its attachment. */
  Result result() {
    return result;
  }

  /** The live attachment: the first one's, or the latest re-attach's. */
  Attachment attachment() {
    return failover == null ? result.attachment() : failover.current.attachment();
  }

  /** The re-attaches so far (none without several addresses). */
  List<Reattach> reattaches() {
    return failover == null ? List.of() : failover.reattaches();
  }

  /**
   * Opens a session that stays attached to one of {@code members} (members of an origin cluster,
   * or one server): when its connection is lost the client dials the next address, and re-attaches
   * from its store on each new connection, telling {@code onReattach}.
   *
   * @throws ExecutionException when the first attach fails for good
   * @throws TimeoutException when no member answered the first attach within {@code timeout}
   */
  static WorldSession open(
      List<InetSocketAddress> members,
      SnapshotStore store,
      String serverId,
      PublishedClient.Mode mode,
      Consumer<ActivationProgress> progress,
      Duration timeout,
      Consumer<Reattach> onReattach)
      throws ExecutionException, TimeoutException, InterruptedException {
    Failover failover = new Failover(store, onReattach);
    PbClient client = PbClient.builder()
        .addresses(members)
        .registry(WorldModel.registry())
        .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
        .reconnect(RECONNECT)
        .onSession(failover::attach)
        .build();
    // after each attach the client learns the cluster's members, so it can fail over to one it
    // was not given
    PublishedClient.Builder b = PublishedClient.builder().store(store).mode(mode)
        .progress(progress).learnMembers(client);
    if (serverId != null) {
      b.expectedServerId(serverId);
    }
    failover.publishing = b.build();
    failover.client = client;
    try {
      long ms = timeout.toMillis();
      RemoteReference root = client.session().get(ms, TimeUnit.MILLISECONDS);
      return new WorldSession(client, root, failover.current, timeout, failover);
    } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** How a session with several addresses reconnects: quickly, to the next member. */
  static final ReconnectPolicy RECONNECT =
      ReconnectPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(2));

  /** Attaches on each new connection of a session with several addresses. */
  private static final class Failover {
    private final SnapshotStore store;
    private final Consumer<Reattach> onReattach;
    private final List<Reattach> reattaches = new ArrayList<>();
    private volatile PublishedClient publishing;
    private volatile PbClient client;
    private volatile Result current;

    Failover(SnapshotStore store, Consumer<Reattach> onReattach) {
      this.store = store;
      this.onReattach = onReattach;
    }

    /** The session initializer: attaches through the new connection's root, measuring it. */
    CompletionStage<RemoteReference> attach(RemoteReference root) {
      return root.callRemote(RemoteReference.class, "publishing").thenCompose(endpoint -> {
        Result before = current;
        Map<String, Long> stored = before == null ? Map.of() : storedVersions(before.attachment());
        PbConnection connection = endpoint.connection();
        PbConnection.Stats s0 = connection.stats();
        long start = System.nanoTime();
        return publishing.attach(endpoint, WorldModel.SERVICE).thenApply(attachment -> {
          long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          PbConnection.Stats s1 = connection.stats();
          Result r = new Result(attachment, millis, s1.bytesSent() - s0.bytesSent(),
              s1.bytesReceived() - s0.bytesReceived());
          current = r;
          if (before != null) {
            // Unchanged: the member serves the version the store held. An object updated since
            // its activation (the world is live) no longer tells its first version: left out.
            int unchanged = 0;
            int missed = 0;
            for (Map.Entry<String, RemotePublished> e : attachment.objects().entrySet()) {
              RemotePublished o = e.getValue();
              boolean fromStore = o.fromStore();
              long version = o.version();
              UpdateCounts updates = WorldModel.countsOf(o);
              Long v = stored.get(e.getKey());
              if (updates.deltas() + updates.wholeStates() == 0 && v != null && v == version) {
                unchanged++;
                if (!fromStore) {
                  missed++;
                }
              }
            }
            PbClient c = client;
            Reattach re;
            synchronized (reattaches) {
              re = new Reattach(reattaches.size() + 1,
                  c != null && c.currentAddress() instanceof InetSocketAddress a
                      ? a.getHostString() + ":" + a.getPort() : "?",
                  r, unchanged, missed);
              reattaches.add(re);
            }
            onReattach.accept(re);
          }
          return root;
        });
      });
    }

    /** Identity to version of what the store holds for the attachment's service. */
    private Map<String, Long> storedVersions(Attachment previous) {
      Map<String, Long> versions = new HashMap<>();
      SnapshotPrefix prefix = SnapshotPrefix.of(
          previous.serverId(), previous.service(), previous.perspectiveKey());
      for (SnapshotEntry e : store.list(prefix)) {
        versions.put(e.key().identity(), e.version());
      }
      return versions;
    }

    List<Reattach> reattaches() {
      synchronized (reattaches) {
        return List.copyOf(reattaches);
      }
    }
  }

  /**
   * The server's digest of its world ({@link WorldRoot#digest}); a live world then stays still
   * for {@code pause} or until {@link #resume}.
   */
  @SuppressWarnings("unchecked")
  Map<String, String> digest(Duration pause)
      throws ExecutionException, TimeoutException, InterruptedException {
    return (Map<String, String>) root().callRemote(Map.class, "digest", (int) pause.toMillis())
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Lets a paused live world go on. */
  void resume() throws ExecutionException, TimeoutException, InterruptedException {
    root().callRemote("resume").get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** The root of the current connection (a new one after a failover). */
  private RemoteReference root()
      throws ExecutionException, TimeoutException, InterruptedException {
    return failover == null ? root
        : client.session().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    client.close();
  }
}
