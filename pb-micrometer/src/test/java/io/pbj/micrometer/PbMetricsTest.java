package io.pbj.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbListener;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PbMetrics} in a {@link SimpleMeterRegistry}, over real in-process connections. */
@Timeout(60)
class PbMetricsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final SimpleMeterRegistry serverRegistry = new SimpleMeterRegistry();
  final SimpleMeterRegistry clientRegistry = new SimpleMeterRegistry();
  final PbMetrics serverMetrics = PbMetrics.create(serverRegistry, Tags.of("broker", "server"));
  final PbMetrics clientMetrics = PbMetrics.create(clientRegistry);
  final Fixtures.Root root = new Fixtures.Root();
  final String name = "pbj-metrics-" + UUID.randomUUID();

  private PbServer server() {
    return cleanup.register(
        PbServer.builder().inProcess(name).registry(Fixtures.registry()).root(root)
            .eventListener(serverMetrics).build().start());
  }

  private PbClient client() {
    return cleanup.register(
        PbClient.builder().inProcess(name).registry(Fixtures.registry())
            .eventListener(clientMetrics).build());
  }

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void callsAreTimedByMethodAndOutcomeOnBothSides() throws Exception {
    server();
    RemoteReference ref = get(client().rootObject());
    for (int i = 0; i < 5; i++) {
      assertThat(get(ref.callRemote("add", i, 1))).isEqualTo(i + 1);
    }
    CompletableFuture<Object> failed = ref.callRemote("fail", "on purpose");
    try {
      get(failed);
    } catch (ExecutionException expected) {
      // counted below
    }
    await().atMost(WAIT).until(() -> serverRegistry.find("pbj.calls").tag("method", "fail")
        .timer() != null && clientRegistry.find("pbj.calls").tag("method", "fail").timer() != null);

    assertThat(serverRegistry.get("pbj.calls")
            .tags("side", "server", "method", "add", "outcome", "OK", "broker", "server")
            .timer().count())
        .isEqualTo(5);
    assertThat(serverRegistry.get("pbj.calls")
            .tags("side", "server", "method", "fail", "outcome", "IllegalStateException")
            .timer().count())
        .isEqualTo(1);
    assertThat(clientRegistry.get("pbj.calls")
            .tags("side", "client", "method", "add", "outcome", "OK").timer().count())
        .isEqualTo(5);
    assertThat(clientRegistry.get("pbj.calls")
            .tags("side", "client", "method", "fail", "outcome", "REMOTE_FAILURE").timer().count())
        .isEqualTo(1);
    assertThat(clientRegistry.get("pbj.calls").tags("method", "add").timer()
            .totalTime(TimeUnit.NANOSECONDS))
        .isPositive();
  }

  @Test
  void connectionsAndTheirBytesAreCountedAcrossCloses() throws Exception {
    server();
    PbClient first = client();
    RemoteReference ref = get(first.rootObject());
    await().atMost(WAIT).until(() -> serverRegistry.get("pbj.connections.open").gauge().value() == 1);
    get(ref.callRemote("echo", (Object) new byte[50_000]));
    PbConnection.Stats seen = ref.connection().stats();

    first.shutdown();
    await().atMost(WAIT).until(() -> serverRegistry.get("pbj.connections.open").gauge().value() == 0);
    RemoteReference second = get(client().rootObject());
    get(second.callRemote("echo", (Object) new byte[10_000]));

    assertThat(serverRegistry.get("pbj.connections.opened").counter().count()).isEqualTo(2);
    assertThat(serverRegistry.get("pbj.connections.closed").tag("cause", "CONNECTION_LOST")
            .counter().count())
        .isEqualTo(1);
    double received = serverRegistry.get("pbj.bytes.received").functionCounter().count();
    assertThat(received)
        .as("both connections' bytes, the closed one's included")
        .isGreaterThanOrEqualTo(seen.bytesSent() + 10_000);
    assertThat(clientRegistry.get("pbj.bytes.sent").functionCounter().count())
        .isGreaterThanOrEqualTo(10_000);
    assertThat(serverRegistry.get("pbj.messages.received").functionCounter().count())
        .isGreaterThanOrEqualTo(2);
  }

  @Test
  void cacheablePushesAndBackpressureAreCounted() throws Exception {
    server();
    RemoteReference ref = get(client().rootObject());
    Fixtures.BoardCache cache = (Fixtures.BoardCache) get(ref.callRemote("board"));
    for (int i = 0; i < 3; i++) {
      get(ref.callRemote("post", "line " + i));
    }
    await().atMost(WAIT).until(() -> cache.lines.size() == 3);
    await().atMost(WAIT).until(() -> serverRegistry.find("pbj.pushes").counter() != null
        && serverRegistry.find("pbj.pushes").counter().count() == 3);
    // backpressure needs a stalled TCP reader, which pb-core's tests provide; its counter here
    serverMetrics.backpressure(ref.connection(), PbListener.Pressure.UPDATES_COALESCED, "test");

    assertThat(serverRegistry.get("pbj.pushes")
            .tags("cacheable", Fixtures.Board.class.getName(), "result", "sent").counter().count())
        .isEqualTo(3);
    assertThat(serverRegistry.get("pbj.backpressure").tag("kind", "updates_coalesced")
            .counter().count())
        .isEqualTo(1);
  }

  @Test
  void attachHitsAndMissesAndStoreSizesAreReported() throws Exception {
    ServerKey key = ServerKey.generate();
    PublishingService service =
        PublishingService.builder().serverKey(key).service("notes").build();
    service.publish(new Fixtures.Note("a", "alpha"));
    service.publish(new Fixtures.Note("b", "beta"));
    cleanup.register(
        PbServer.builder().inProcess(name).registry(Fixtures.registry())
            .rootFactory(service::endpoint).build().start());
    SnapshotStore store =
        cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
    PublishedClient published =
        PublishedClient.builder().store(store).expectedServerId(key.serverId())
            .attachListener(clientMetrics).build();
    clientMetrics.bindStore(store, "notes");

    published.attach(get(client().rootObject()), "notes").get(10, TimeUnit.SECONDS);
    published.attach(get(client().rootObject()), "notes").get(10, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() ->
        clientRegistry.find("pbj.attach").timer() != null
            && clientRegistry.find("pbj.attach").timer().count() == 2);

    assertThat(clientRegistry.get("pbj.attach").tags("service", "notes", "outcome", "OK")
            .timer().count())
        .isEqualTo(2);
    assertThat(clientRegistry.get("pbj.attach.objects").tags("service", "notes", "result", "hit")
            .counter().count())
        .isEqualTo(2);
    double misses =
        clientRegistry.get("pbj.attach.objects").tags("result", "inlined").counter().count()
            + clientRegistry.get("pbj.attach.objects").tags("result", "fetched").counter().count();
    assertThat(misses).isEqualTo(2);
    assertThat(clientRegistry.get("pbj.store.entries").tag("store", "notes").gauge().value())
        .isEqualTo(2);
    assertThat(clientRegistry.get("pbj.store.size").tag("store", "notes").gauge().value())
        .isPositive();
    assertThat(clientRegistry.get("pbj.store.hits").tag("store", "notes").functionCounter()
            .count())
        .isGreaterThanOrEqualTo(2);
  }
}
