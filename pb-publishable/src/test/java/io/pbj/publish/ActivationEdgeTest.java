package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.WireState;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Activation corner cases: resends during activation, retries on one connection. */
class ActivationEdgeTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  SnapshotStore store() {
    return cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
  }

  @Test
  void wholeStateResentDuringActivationIsHeldAndAppliedAfterIt() {
    TileCache r = new TileCache();
    r.setState(new WireState("tile-0", 1, 1, 1, null));          // the attach answer: version only
    WireState answered = r.received();
    // The server coalesced updates and sent the whole state again before activation ended.
    r.setState(new WireState("tile-0", 2, 5, 1, bytes("t:new")));
    assertThat(r.received()).as("the activation still sees the answer").isEqualTo(answered);

    SnapshotStore store = store();
    assertThat(r.tryApply(bytes("t:old"), 1, answered.version(), true)).isNull();
    r.markActivated(new SnapshotKey("o", "world", "anonymous", "tile-0"), store,
        answered.version(), answered.revision(), true, null);
    assertThat(r.terrain()).as("the resent state is held until the activation ends")
        .isEqualTo("old");
    r.announce();
    assertThat(r.terrain()).isEqualTo("new");
    assertThat(r.version()).isEqualTo(2);
    assertThat(store.get(new SnapshotKey("o", "world", "anonymous", "tile-0")).orElseThrow()
        .version()).isEqualTo(2);
  }

  @Test
  void attachAfterAFailedActivationOnTheSameConnectionActivatesFreshObjects()
      throws Exception {
    List<Tile> tiles = PublishingTest.tiles(3);
    PublishingService s = PublishingService.builder().serverKey(TestKeys.key("o")).service("world")
        .build();
    s.publishAll(tiles);
    String name = "pbj-edge-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(name).registry(PublishingTest.REGISTRY)
        .rootFactory(s::endpoint).build().start());
    SnapshotStore store = store();
    PublishedClient versions =
        PublishedClient.builder().store(store).mode(PublishedClient.Mode.VERSIONS).build();
    PbClient first = cleanup.register(
        PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build());
    versions.attach(first.rootObject().join(), "world").get(10, TimeUnit.SECONDS);
    first.close();
    tiles.get(0).change("lava", 2);

    PbClient second = cleanup.register(
        PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build());
    RemoteReference endpoint = second.rootObject().join();
    CompletableFuture<Attachment> failed = PublishedClient.builder()
        .store(new HookedStore(store, null, () -> {
          throw new IllegalStateException("the store failed reading tile-0");
        }))
        .mode(PublishedClient.Mode.VERSIONS).build().attach(endpoint, "world");
    assertThatThrownBy(() -> failed.get(10, TimeUnit.SECONDS)).hasMessageContaining("tile-0");

    // The failed activation released its objects: once the server has seen that, the retry on
    // the same open connection gets fresh ones and activates them all.
    await().atMost(Duration.ofSeconds(10))
        .until(() -> tiles.stream().allMatch(t -> t.observerCount() == 0));
    Attachment retry = versions.attach(endpoint, "world").get(10, TimeUnit.SECONDS);
    assertThat(retry.objects().values()).allSatisfy(r -> {
      assertThat(r.isActivated()).isTrue();
      assertThat(r.whenReady()).isCompleted();
    });
    assertThat(retry.get("tile-0", TileCache.class).terrain()).isEqualTo("lava");
  }

  @Test
  void secondResolveOfALiveObjectCostsNoCall() {
    PublishingService s = PublishingService.builder().serverKey(TestKeys.key("o")).service("world")
        .build();
    s.publishAll(PublishingTest.tiles(2));
    PbServer server = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(s::endpoint).build().start());
    PublishedResolver resolver = cleanup.register(PublishedResolver.builder()
        .registry(PublishingTest.REGISTRY).store(store()).build());
    PbUrl url =
        PbUrl.parse("pb://" + s.serverId() + "@127.0.0.1:" + server.port() + "/world/tile-1");
    RemotePublished first = resolver.resolve(url, null).join();
    long calls = first.connection().stats().callsSent();
    RemotePublished again = resolver.resolve(url, null).join();
    assertThat(again).isSameAs(first);
    assertThat(first.connection().stats().callsSent()).isEqualTo(calls);
  }
}
