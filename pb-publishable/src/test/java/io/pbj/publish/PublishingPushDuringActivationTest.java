package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbServer;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A push that arrives during an activation, the case PublishingPropertyTest finds when it requires
 * the store to be in sync after a change during an attach. The property shrank it to three objects
 * [SERVICE, SERVICE, CONTENT] and [update(#0 := v0, republish(v)), reconnect(VERSIONS),
 * update(#1 := v0, republish(), push not awaited), reconnect(INVENTORY) while the server changes
 * #1], failing on the final attach with "an attach after no server-side change is all hits:
 * expected 3 but was 2". By hand, the smallest: an inventory attach with one stale object and a
 * stored one after it, the stale one changed on the server after the attach answer and before
 * the activation ends.
 */
class PublishingPushDuringActivationTest {
  static final String SERVER_ID = TestKeys.id("origin-1");
  static final SnapshotKey CHANGED = new SnapshotKey(SERVER_ID, "world", "anonymous", "obj-0");

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /**
   * Once the push of v3 is applied to the activated object and stored, the store keeps v3 (as the
   * object does), and the next session with nothing changed is all hits.
   *
   * <p>The regression: {@code PublishedClient.Activation.activateFresh} used to mark the object
   * activated before its fresh state was written; a push in between was applied and stored, then
   * the batch's {@code putAll} wrote the older state over it. Objects are now marked activated
   * only after their batch is written, so such a push is held and applied after it.
   */
  @Test
  void pushStoredDuringActivationIsNotOverwrittenByTheOlderAttachState() throws Exception {
    Tile changed = new Tile("obj-0", "v0", 1);
    Tile unchanged = new Tile("obj-1", "v0", 1);
    PublishingService service =
        PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();
    service.publish(changed, unchanged);
    String name = "pbj-publish-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(name).registry(PublishingTest.REGISTRY)
        .rootFactory(service::endpoint).build().start());
    SnapshotStore store =
        cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
    attach(name, store).client().close();    // both stored at v1
    changed.change("v1", 2);                  // obj-0 is stale in the store now

    // The client reads the store only for obj-1 (obj-0's v2 comes inline, not yet stored): the
    // server then republishes obj-0 as v3, and the read waits until the push has reached the
    // client's connection, so it arrives while the activation is under way.
    PbClient client = client(name);
    PbConnection connection = client.connection().get(10, TimeUnit.SECONDS);
    SnapshotStore changingDuringActivation = new HookedStore(store, null, () -> {
      long received = connection.stats().messagesReceived();
      changed.change("v2", 3);
      await().atMost(Duration.ofSeconds(10))
          .until(() -> connection.stats().messagesReceived() > received);
    });
    Session second = attach(client, changingDuringActivation);
    TileCache obj0 = second.attachment().get("obj-0", TileCache.class);
    await().atMost(Duration.ofSeconds(10)).until(() -> obj0.version() == 3
        && store.get(CHANGED).map(Snapshot::version).orElse(0L) == 3);
    assertThat(obj0.terrain()).isEqualTo("v2");
    assertThat(second.attachment().inlined()).as("obj-0 came inline").isEqualTo(1);

    assertThat(store.get(CHANGED).orElseThrow().version())
        .as("stored version of obj-0, whose object holds the pushed v3")
        .isEqualTo(3);
    second.client().close();
    assertThat(attach(name, store).attachment().hits())
        .as("hits of the next session, with nothing changed on the server")
        .isEqualTo(2);
  }

  record Session(PbClient client, Attachment attachment) {}

  private PbClient client(String name) {
    return cleanup.register(
        PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build());
  }

  private Session attach(String name, SnapshotStore store) throws Exception {
    return attach(client(name), store);
  }

  private Session attach(PbClient client, SnapshotStore store) throws Exception {
    Attachment a = PublishedClient.builder().store(store).expectedServerId(SERVER_ID).build()
        .attach(client.rootObject().get(10, TimeUnit.SECONDS), "world")
        .get(10, TimeUnit.SECONDS);
    return new Session(client, a);
  }
}
