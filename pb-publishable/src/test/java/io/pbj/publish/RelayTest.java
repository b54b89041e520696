package io.pbj.publish;

import io.pbj.PbException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Relays: re-publishing with the origin's identity and versions, in chains, in-process. */
class RelayTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  static final String ORIGIN = PublishingTest.ORIGIN;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** A server (origin or relay) reachable in-process under a fresh name. */
  record Hop(String name, PbServer server) {}

  Hop serve(Function<io.pbj.PbConnection, Object> root) {
    String name = "pbj-relay-" + UUID.randomUUID();
    return new Hop(name, cleanup.register(PbServer.builder().inProcess(name)
        .registry(PublishingTest.REGISTRY).rootFactory(root).build().start()));
  }

  RemoteReference connect(Hop hop) {
    return cleanup.register(PbClient.builder().inProcess(hop.name())
        .registry(PublishingTest.REGISTRY).build()).rootObject().join();
  }

  SnapshotStore store() {
    return cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
  }

  /** A relay attached to {@code upstream}, which lets its own clients relay further. */
  Relay relay(SnapshotStore store, Hop upstream) {
    Relay relay = cleanup.register(Relay.builder().registry(PublishingTest.REGISTRY)
        .upstream(PublishedClient.builder().store(store).expectedServerId(ORIGIN))
        .delegateToRelays(p -> true).build());
    relay.attach(connect(upstream), "world").join();
    return relay;
  }

  /** The origin, which lets every connection relay (they connect without login here). */
  static PublishingService origin(List<Tile> tiles) {
    PublishingService origin = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").delegateToRelays(p -> true).build();
    origin.publishAll(tiles);
    return origin;
  }

  Hop serve(Relay relay) {
    return serve(c -> relay.service().endpoint(c));
  }

  static Attachment attach(SnapshotStore store, RemoteReference endpoint) {
    return PublishingTest.inventoryClient(store, ORIGIN).attach(endpoint, "world").join();
  }

  /** One session: attaches, then disconnects (so no later push reaches the store through it). */
  static Attachment session(SnapshotStore store, RemoteReference endpoint) {
    Attachment a = attach(store, endpoint);
    endpoint.connection().close();
    return a;
  }

  @Test
  void clientMovingBetweenRelaysAndOriginKeepsItsCache() {
    List<Tile> tiles = PublishingTest.tiles(50);
    PublishingService origin = origin(tiles);
    Hop originHop = serve(origin::endpoint);
    Relay first = relay(store(), originHop);
    Hop firstHop = serve(first);
    Relay second = relay(store(), firstHop);
    Hop secondHop = serve(second);
    assertThat(second.service().serverId()).isEqualTo(ORIGIN);

    SnapshotStore client = store();
    Attachment cold = session(client, connect(secondHop));
    assertThat(cold.serverId()).as("the relay serves under the origin's id").isEqualTo(ORIGIN);
    assertThat(cold.proven()).as("proven through a chain of two delegations").isTrue();
    assertThat(cold.hits()).isZero();
    assertThat(cold.get("tile-7", TileCache.class).terrain()).isEqualTo("grass-7");
    assertThat(client.get(new SnapshotKey(ORIGIN, "world", "anonymous", "tile-7"))).isPresent();

    Attachment direct = session(client, connect(originHop));
    assertThat(direct.hits()).as("the origin's versions are the relay's").isEqualTo(50);
    Attachment viaFirst = session(client, connect(firstHop));
    assertThat(viaFirst.hits()).isEqualTo(50);
    assertThat(direct.proven() && viaFirst.proven()).isTrue();

    tiles.get(7).change("lava");
    await().atMost(WAIT).until(
        () -> second.service().get("tile-7").orElseThrow().version() == tiles.get(7).version());
    Attachment back = attach(client, connect(secondHop));
    assertThat(back.hits()).isEqualTo(49);
    assertThat(back.inlined()).isEqualTo(1);
    assertThat(back.extraCalls()).isZero();
    assertThat(back.get("tile-7", TileCache.class).terrain()).isEqualTo("lava");
    assertThat(back.get("tile-7", TileCache.class).version()).isEqualTo(tiles.get(7).version());
  }

  @Test
  void originUpdatesTravelDownAChainToClientsAndTheirStores() {
    List<Tile> tiles = PublishingTest.tiles(3);
    PublishingService origin = origin(tiles);
    SnapshotStore firstStore = store();
    Relay first = relay(firstStore, serve(origin::endpoint));
    Relay second = relay(store(), serve(first));
    SnapshotStore client = store();
    TileCache tile = attach(client, connect(serve(second))).get("tile-1", TileCache.class);
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    tile.onUpdate(t -> seen.add(((TileCache) t).terrain()));

    tiles.get(1).change("snow");
    tiles.get(1).change("mud");
    long version = tiles.get(1).version();
    await().atMost(WAIT).until(() -> tile.version() == version);
    assertThat(tile.terrain()).isEqualTo("mud");
    assertThat(seen).containsExactly("snow", "mud");
    SnapshotKey key = new SnapshotKey(ORIGIN, "world", "anonymous", "tile-1");
    assertThat(client.get(key).orElseThrow().version()).isEqualTo(version);
    assertThat(new String(client.get(key).orElseThrow().state(), StandardCharsets.UTF_8))
        .isEqualTo("t:mud");
    assertThat(firstStore.get(key).orElseThrow().version())
        .as("the relay keeps its own store current").isEqualTo(version);
  }

  @Test
  void restartedRelayReactivatesFromItsOwnStoreAndClientsStayValid() {
    List<Tile> tiles = PublishingTest.tiles(20);
    PublishingService origin = origin(tiles);
    Hop originHop = serve(origin::endpoint);
    SnapshotStore relayStore = store();
    SnapshotStore client = store();
    Relay relay = relay(relayStore, originHop);
    session(client, connect(serve(relay)));
    relay.close();

    tiles.get(3).change("ice");
    Relay restarted = relay(relayStore, originHop);
    assertThat(restarted.upstream().hits()).isEqualTo(19);
    assertThat(restarted.upstream().inlined()).isEqualTo(1);
    Attachment a = attach(client, connect(serve(restarted)));
    assertThat(a.hits()).isEqualTo(19);
    assertThat(a.get("tile-3", TileCache.class).terrain()).isEqualTo("ice");
  }

  static PublishException refusal(SnapshotStore store, RemoteReference endpoint) {
    Throwable t = catchThrowable(() ->
        PublishingTest.inventoryClient(store, ORIGIN).attach(endpoint, "world").join());
    assertThat(t).isInstanceOf(CompletionException.class)
        .hasCauseInstanceOf(PublishException.class);
    PublishException e = (PublishException) t.getCause();
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    return e;
  }

  @Test
  void aRelayWithoutDelegationIsRefusedAndItsObjectsAreNeverStored() {
    PublishingService origin = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").build();     // lets nobody relay
    origin.publishAll(PublishingTest.tiles(5));
    Relay relay = relay(store(), serve(origin::endpoint));
    assertThat(relay.upstream().proven()).as("the relay itself sees the origin proven").isTrue();
    assertThat(relay.service().isProven()).isFalse();

    SnapshotStore client = store();
    PublishException e = refusal(client, connect(serve(relay)));
    assertThat(e).hasMessageContaining("it sent no proof");
    client.flush();
    assertThat(client.size()).isZero();
    Attachment trusting = PublishedClient.builder().store(client).expectedServerId(ORIGIN)
        .allowUnprovenServerIds().build().attach(connect(serve(relay)), "world").join();
    assertThat(trusting.proven()).isFalse();
    assertThat(trusting.objects()).hasSize(5);
  }

  @Test
  void onlyPerspectivesTheOriginNamesMayRelay() {
    PublishingService origin = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").delegateToRelays(p -> p != null).build();  // logged-in relays only
    origin.publishAll(PublishingTest.tiles(5));
    Relay anonymous = relay(store(), serve(origin::endpoint));
    refusal(store(), connect(serve(anonymous)));
  }

  @Test
  void aRelayOfARelayNeedsTheFirstRelayToDelegateFurther() {
    PublishingService origin = origin(PublishingTest.tiles(5));
    Relay first = cleanup.register(Relay.builder().registry(PublishingTest.REGISTRY)
        .upstream(PublishedClient.builder().store(store()).expectedServerId(ORIGIN)).build());
    first.attach(connect(serve(origin::endpoint)), "world").join();
    Hop firstHop = serve(first);
    assertThat(PublishingTest.inventoryClient(store(), ORIGIN).attach(connect(firstHop), "world")
        .join().proven()).isTrue();
    Relay second = relay(store(), firstHop);
    refusal(store(), connect(serve(second)));
  }

  @Test
  void aChainOfMoreThanThreeRelaysIsNotDelegated() {
    Hop hop = serve(origin(PublishingTest.tiles(3))::endpoint);
    List<Hop> hops = new java.util.ArrayList<>();
    for (int i = 0; i < IdProof.MAX_CHAIN + 1; i++) {
      hop = serve(relay(store(), hop));
      hops.add(hop);
    }
    for (int i = 0; i < IdProof.MAX_CHAIN; i++) {
      assertThat(attach(store(), connect(hops.get(i))).proven()).as("relay %d", i + 1).isTrue();
    }
    refusal(store(), connect(hops.get(IdProof.MAX_CHAIN)));
  }

  @Test
  void anExpiredDelegationIsRefusedAndANewRelayRenewsIt() {
    PublishingService origin = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").delegateToRelays(p -> true).delegationLifetime(Duration.ofHours(1))
        .build();
    origin.publishAll(PublishingTest.tiles(3));
    Hop originHop = serve(origin::endpoint);
    Hop relayHop = serve(relay(store(), originHop));
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(2));

    Throwable t = catchThrowable(() -> PublishedClient.builder().store(store())
        .expectedServerId(ORIGIN).clock(later).build().attach(connect(relayHop), "world").join());
    assertThat(t).hasCauseInstanceOf(PublishException.class)
        .hasMessageContaining("delegation 1 (to relay pbj1-")
        .hasMessageContaining("expired at")
        .hasMessageContaining("the relay renews it when it attaches upstream again");

    // The relay's own clock past the expiry: its answers carry no proof at all.
    Relay stale = cleanup.register(Relay.builder().registry(PublishingTest.REGISTRY)
        .upstream(PublishedClient.builder().store(store()).expectedServerId(ORIGIN))
        .clock(later).build());
    stale.attach(connect(originHop), "world").join();
    assertThat(refusal(store(), connect(serve(stale)))).hasMessageContaining("it sent no proof");

    // Attaching upstream again (a new relay) gives a fresh delegation.
    assertThat(attach(store(), connect(serve(relay(store(), originHop)))).proven()).isTrue();
  }

  @Test
  void relayRefusesARegistryWithoutTheUpstreamClasses() {
    PublishingService origin = origin(PublishingTest.tiles(1));
    Hop originHop = serve(origin::endpoint);
    PbRegistry bare = Publishing.register(PbRegistry.builder()).build();
    Relay relay = cleanup.register(Relay.builder().registry(bare)
        .upstream(PublishedClient.builder().store(store()).expectedServerId(ORIGIN)).build());
    assertThatThrownBy(() -> relay.attach(connect(originHop), "world").join())
        .hasMessageContaining(TileCache.class.getName() + " is not registered in the relay's registry");
    assertThatThrownBy(relay::service).hasMessageContaining("has not attached");
    await("the failed relay releases what it got upstream").atMost(WAIT)
        .until(() -> origin.get("tile-0").orElseThrow().observerCount() == 0);
    assertThatThrownBy(() -> relay.attach(connect(originHop), "world").join())
        .as("a failed attach may be tried again").hasMessageContaining("is not registered");

    Relay working = relay(store(), originHop);
    assertThatThrownBy(() -> working.attach(connect(originHop), "world"))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("already attached");
  }

  @Test
  void builderRefusesMissingOptions() {
    assertThatThrownBy(() -> Relay.builder()
            .upstream(PublishedClient.builder().store(store()).expectedServerId("o")).build())
        .hasMessageContaining("needs a registry");
    assertThatThrownBy(() -> Relay.builder().registry(PublishingTest.REGISTRY).build())
        .hasMessageContaining("needs upstream");
    assertThatThrownBy(() -> Relay.builder().registry(PublishingTest.REGISTRY)
            .upstream(PublishedClient.builder().store(store())).build())
        .hasMessageContaining("INVENTORY needs expectedServerId");
    assertThatThrownBy(() -> PublishingService.builder().serverKey(TestKeys.key("o")).service("w")
            .perspectiveKey(p -> "x").fixedPerspectiveKey("y").build())
        .hasMessageContaining("perspectiveKey and fixedPerspectiveKey conflict");
  }
}
