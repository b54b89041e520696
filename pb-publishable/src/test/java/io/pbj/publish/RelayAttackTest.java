package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.ReconnectPolicy;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Attacks on relays: an upstream that flaps, a connector that throws, fails or answers null, and
 * an upstream that sends deltas for methods the relay's class lacks.
 */
class RelayAttackTest {
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .registerCache(Tile.class, TileCache.class)
      .build();
  static final String ORIGIN = TestKeys.id("origin-1");
  static final Duration WAIT = Duration.ofSeconds(20);
  static final ReconnectPolicy FAST =
      ReconnectPolicy.exponential(Duration.ofMillis(1), Duration.ofMillis(20));

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final List<Relay> relays = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeRelays() {
    relays.forEach(Relay::close);
  }

  PbServer serve(String name, Object root) {
    return cleanup.register(PbServer.builder().inProcess(name).registry(REGISTRY)
        .root(root).build().start());
  }

  String serveNew(Object root) {
    String name = "pbj-relay-attack-" + UUID.randomUUID();
    serve(name, root);
    return name;
  }

  CompletableFuture<RemoteReference> connectAsync(String name) {
    return cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build())
        .rootObject();
  }

  SnapshotStore store() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  Relay relay(Supplier<? extends CompletionStage<RemoteReference>> connector) {
    Relay relay = cleanup.register(Relay.builder().registry(REGISTRY).reconnect(FAST)
        .delegateToRelays(p -> true)
        .upstream(PublishedClient.builder().store(store()).expectedServerId(ORIGIN)).build());
    relays.add(relay);
    relay.attach(connector, "world").join();
    return relay;
  }

  static PublishingService origin() {
    return PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world")
        .delegateToRelays(p -> true).build();
  }

  Attachment attachTo(String name) {
    return PublishedClient.builder().store(store()).expectedServerId(ORIGIN).build()
        .attach(connectAsync(name).join(), "world").join();
  }

  /**
   * The upstream connection flaps 30 times: each loss costs one re-attach, leaves exactly one
   * upstream connection open (the origin serves one connection, not 30), at most one reconnect
   * thread, and the relay keeps following the origin.
   */
  @Test
  void aFlappingUpstreamLeavesOneConnectionOneThreadAndTheRelayFollowing() {
    PublishingService origin = origin();
    List<Tile> tiles = PublishingTest.tiles(5);
    origin.publishAll(tiles);
    String originName = "pbj-relay-attack-" + UUID.randomUUID();
    PbServer originServer = serve(originName, origin.endpoint());
    List<RemoteReference> made = new CopyOnWriteArrayList<>();
    Relay relay = relay(() -> connectAsync(originName).thenApply(e -> {
      made.add(e);
      return e;
    }));
    String relayName = serveNew(relay.service().endpoint());
    Attachment client = attachTo(relayName);
    int flaps = 30;
    for (int i = 0; i < flaps; i++) {
      relay.upstream().endpoint().connection().close();
      int expected = i + 1;
      await().atMost(WAIT).until(() -> relay.reattached() == expected);
      assertThat(RelayLiveTest.reconnectThreads()).isLessThanOrEqualTo(1);
    }
    assertThat(made).hasSize(flaps + 1);
    assertThat(made.stream().filter(e -> e.connection().isOpen()).count())
        .as("connections the relay holds upstream").isEqualTo(1);
    await().atMost(WAIT).until(() -> originServer.connections().size() == 1);
    tiles.get(0).change("lava");
    await().atMost(WAIT)
        .until(() -> "lava".equals(client.get("tile-0", TileCache.class).terrain()));
    assertThat(client.objects()).hasSize(5);
  }

  /**
   * A connector that throws, returns a failed future, returns null, or a future of null: each is
   * one failed attempt, and the next attempt that gets an endpoint re-attaches.
   */
  @Test
  void aConnectorThatThrowsFailsOrAnswersNullCostsOneAttemptEach() {
    PublishingService origin = origin();
    origin.publishAll(PublishingTest.tiles(2));
    String originName = serveNew(origin.endpoint());
    AtomicInteger connects = new AtomicInteger();
    Relay relay = relay(() -> {
      switch (connects.getAndIncrement()) {
        case 0:
          return connectAsync(originName);
        case 1:
          throw new IllegalStateException("connector refuses");
        case 2:
          return CompletableFuture.failedFuture(new IllegalStateException("failed future"));
        case 3:
          return null;
        case 4:
          return CompletableFuture.completedFuture(null);
        default:
          return connectAsync(originName);
      }
    });
    relay.upstream().endpoint().connection().close();
    await().atMost(WAIT).until(() -> relay.reattached() == 1);
    assertThat(connects.get()).isEqualTo(6);
    assertThat(relay.upstream().objects()).hasSize(2);
  }

  /**
   * A hostile upstream pushes deltas naming methods the relay's class lacks (and a real method
   * with wrong arguments): the relay refuses them, never forwards them down, and ends with the
   * origin's state, as do its clients.
   */
  @Test
  void deltasForMethodsTheRelaysClassLacksAreNeverForwardedAndTheStateEndsRight() {
    PublishingService origin = origin();
    List<Tile> tiles = PublishingTest.tiles(1);
    origin.publishAll(tiles);
    String originName = serveNew(origin.endpoint());
    Relay relay = relay(() -> connectAsync(originName));
    String relayName = serveNew(relay.service().endpoint());
    Attachment client = attachTo(relayName);
    TileCache down = client.get("tile-0", TileCache.class);
    Tile t = tiles.get(0);
    for (int i = 0; i < 20; i++) {
      t.republishDelta("noSuchMethod", i);
      t.republishDelta("append", 1, 2, 3);
      t.republishDelta("append", (Object) null);
    }
    t.change("final");
    await().atMost(WAIT).until(() -> "final".equals(down.terrain()));
    assertThat(down.version()).isEqualTo(t.version());
    assertThat(relay.upstream().get("tile-0", TileCache.class).terrain()).isEqualTo("final");
    assertThat(relay.upstream().endpoint().connection().isOpen()).isTrue();
  }
}
