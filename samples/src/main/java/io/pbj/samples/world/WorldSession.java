package io.pbj.samples.world;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.RemoteReference;
import io.pbj.publish.ActivationProgress;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.samples.world.WorldModel.Kind;
import io.pbj.store.SnapshotStore;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One client session of the world: connect over TCP, ask the root for the publishing endpoint,
 * attach to the world service with a {@link PublishedClient}, wait until every object is
 * activated, and measure what that cost on the connection. {@link #attach} closes the connection
 * before it returns (the objects stay usable); {@link #open} keeps it, and the attachment live,
 * until {@link #close}.
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

  private WorldSession(PbClient client, RemoteReference root, Result result, Duration timeout) {
    this.client = client;
    this.root = root;
    this.result = result;
    this.timeout = timeout;
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
      return new WorldSession(client, root, r, timeout);
    } catch (ExecutionException | TimeoutException | InterruptedException | RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** What the attach cost, and the (live) attachment. */
  Result result() {
    return result;
  }

  /**
   * The server's digest of its world ({@link WorldRoot#digest}); a live world then stays still
   * for {@code pause} or until {@link #resume}.
   */
  @SuppressWarnings("unchecked")
  Map<String, String> digest(Duration pause)
      throws ExecutionException, TimeoutException, InterruptedException {
    return (Map<String, String>) root.callRemote(Map.class, "digest", (int) pause.toMillis())
        .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Lets a paused live world go on. */
  void resume() throws ExecutionException, TimeoutException, InterruptedException {
    root.callRemote("resume").get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    client.close();
  }
}
