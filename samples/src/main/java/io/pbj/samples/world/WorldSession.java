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
 * One client session of the world: connect over TCP, attach to the world service with a {@link
 * PublishedClient}, wait until every object is activated, and measure what that cost on the
 * connection. The connection is closed before it returns; the objects stay usable.
 *
 * <pre>{@code
 * WorldSession.Result r = WorldSession.attach("127.0.0.1", 7000, store, serverId,
 *     PublishedClient.Mode.INVENTORY, bar, Duration.ofSeconds(60));
 * System.out.println(r.hits() + " hits, " + r.stale() + " stale, " + r.bytes() + " bytes");
 * }</pre>
 *
 * <p>Thread-safety: stateless; each call is its own session.
 */
final class WorldSession {
  private WorldSession() {}

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
   * Runs one session against the world server at {@code host:port}.
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
    PublishedClient.Builder b = PublishedClient.builder().store(store).mode(mode).progress(progress);
    if (serverId != null) {
      b.expectedServerId(serverId);
    }
    PublishedClient publishing = b.build();
    try (PbClient client = PbClient.builder()
        .address(host, port)
        .registry(WorldModel.registry())
        .maxMessageSize(WorldModel.MAX_MESSAGE_BYTES)
        .build()) {
      RemoteReference endpoint = client.rootObject().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      PbConnection connection = endpoint.connection();
      PbConnection.Stats before = connection.stats();
      long start = System.nanoTime();
      Attachment attachment = publishing.attach(endpoint, WorldModel.SERVICE)
          .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      PbConnection.Stats after = connection.stats();
      return new Result(attachment, millis, after.bytesSent() - before.bytesSent(),
          after.bytesReceived() - before.bytesReceived());
    }
  }
}
