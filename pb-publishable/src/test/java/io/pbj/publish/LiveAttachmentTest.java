package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbCodec;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.HeldExecutor;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Live attachments: objects that appear, change by deltas and disappear while clients attach. */
class LiveAttachmentTest {
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register(Counter.State.class)
      .registerCache(Tile.class, TileCache.class)
      .registerCache(Counter.class, RemoteCounter.class)
      .build();
  static final String ORIGIN = TestKeys.id("origin-1");
  static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final String name = "pbj-live-" + UUID.randomUUID();
  final PublishingService service =
      PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();

  LiveAttachmentTest() {
    cleanup.register(PbServer.builder().inProcess(name).registry(REGISTRY)
        .root(service.endpoint()).build().start());
  }

  RemoteReference connect() {
    return cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build())
        .rootObject().join();
  }

  SnapshotStore store() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  Attachment attach(SnapshotStore store) {
    return attach(connect(), store);
  }

  Attachment attach(RemoteReference endpoint, SnapshotStore store) {
    return PublishedClient.builder().store(store).expectedServerId(ORIGIN).build()
        .attach(endpoint, "world").join();
  }

  static SnapshotKey key(String id) {
    return new SnapshotKey(ORIGIN, "world", "anonymous", id);
  }

  @Test
  void anObjectPublishedWhileAttachedJoinsActivatedAndIsAnnounced() {
    service.publishAll(PublishingTest.tiles(2));
    SnapshotStore store = store();
    Attachment a = attach(store);
    List<RemotePublished> announced = new CopyOnWriteArrayList<>();
    a.onPublished(announced::add);

    service.publish(new Tile("tile-new", "sand", 7));

    await().atMost(WAIT).until(() -> announced.size() == 1);
    TileCache t = (TileCache) announced.get(0);
    assertThat(t.isActivated()).as("never announced before it is ready").isTrue();
    assertThat(t.terrain()).isEqualTo("sand");
    assertThat(a.objects()).containsKey("tile-new").hasSize(3);
    assertThat(a.publishedSinceAttach()).isEqualTo(1);
    store.flush();
    assertThat(store.get(key("tile-new")).orElseThrow().version()).isEqualTo(7);

    // Its later changes reach the client like any other's.
    service.get("tile-new").map(Tile.class::cast).orElseThrow().change("rock", 8);
    await().atMost(WAIT).until(() -> "rock".equals(t.terrain()));
  }

  @Test
  void anUnpublishedObjectLeavesTheAttachmentAndTheStoreAndItsHookRuns() {
    service.publishAll(PublishingTest.tiles(3));
    SnapshotStore store = store();
    Attachment a = attach(store);
    TileCache t1 = a.get("tile-1", TileCache.class);
    List<RemotePublished> gone = new CopyOnWriteArrayList<>();
    a.onUnpublished(gone::add);
    List<RemotePublished> hooked = new CopyOnWriteArrayList<>();
    t1.onUnpublished(hooked::add);

    Publishable p = service.unpublish("tile-1").orElseThrow();

    await().atMost(WAIT).until(() -> gone.size() == 1);
    assertThat(gone.get(0)).isSameAs(t1);
    assertThat(hooked).containsExactly(t1);
    assertThat(t1.isUnpublished()).isTrue();
    assertThat(a.objects()).doesNotContainKey("tile-1").hasSize(2);
    assertThat(a.unpublishedSinceAttach()).isEqualTo(1);
    store.flush();
    assertThat(store.get(key("tile-1"))).as("a later session neither shows nor keeps it").isEmpty();
    await().atMost(WAIT).until(() -> p.observerCount() == 0);

    // A new session does not see it either.
    Attachment again = attach(store);
    assertThat(again.objects()).containsOnlyKeys("tile-0", "tile-2");
    assertThat(again.hits()).isEqualTo(2);
  }

  @Test
  void aClientThatWasAwayLearnsOfRemovalsAtItsNextAttachWithNoExtraCall() {
    service.publishAll(PublishingTest.tiles(4));
    SnapshotStore store = store();
    RemoteReference first = connect();
    attach(first, store);
    first.connection().close();
    service.unpublish("tile-0");
    service.unpublish("tile-3");

    Attachment a = attach(store);
    assertThat(a.objects()).containsOnlyKeys("tile-1", "tile-2");
    assertThat(a.removed()).isEqualTo(2);
    assertThat(a.extraCalls()).isZero();
    assertThat(a.hits()).isEqualTo(2);
    store.flush();
    assertThat(store.get(key("tile-0"))).isEmpty();
    assertThat(store.get(key("tile-3"))).isEmpty();
    assertThat(store.get(key("tile-1"))).isPresent();
  }

  @Test
  void tenThousandPublishesInOneBatchCostAHandfulOfMessages() {
    service.publishAll(PublishingTest.tiles(1));
    Attachment a = attach(store());
    RemoteReference endpoint = a.endpoint();
    long before = endpoint.connection().stats().messagesReceived();
    List<Tile> more = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      more.add(new Tile("more-" + i, "grass", 1));
    }
    service.batch(() -> more.forEach(service::publish));

    await().atMost(Duration.ofSeconds(30)).until(() -> a.objects().size() == 10_001);
    long messages = endpoint.connection().stats().messagesReceived() - before;
    assertThat(messages).as("announcements of 10,000 objects in one batch").isLessThanOrEqualTo(
        10_000 / PublishingService.ANNOUNCE_BATCH + 2);
    assertThat(a.objects().values()).allSatisfy(r -> assertThat(r.isActivated()).isTrue());
  }

  @Test
  void aDeltaChangesTheClientAndItsStoreWithoutTheWholeState() {
    Tile tile = new Tile("tile-0", "grass", 1);
    service.publish(tile);
    SnapshotStore store = store();
    Attachment a = attach(store);
    TileCache t = a.get("tile-0", TileCache.class);
    List<Long> updates = new CopyOnWriteArrayList<>();
    t.onUpdate(r -> updates.add(r.version()));

    tile.append("+flowers");

    await().atMost(WAIT).until(() -> updates.size() == 1);
    assertThat(t.terrain()).isEqualTo("grass+flowers");
    assertThat(t.version()).isEqualTo(tile.version());
    store.flush();
    Snapshot stored = store.get(key("tile-0")).orElseThrow();
    assertThat(stored.version()).isEqualTo(tile.version());
    assertThat(new String(stored.state(), StandardCharsets.UTF_8)).isEqualTo("t:grass+flowers");

    // The next session is a hit at the new version: the server never sent the whole state.
    Attachment again = attach(store);
    assertThat(again.hits()).isEqualTo(1);
    assertThat(again.get("tile-0", TileCache.class).terrain()).isEqualTo("grass+flowers");
  }

  @Test
  void aTypedStateTravelsAsARecordAndIsStoredInPbCoreEncoding() {
    Counter c = new Counter("counter-0", "score");
    service.publish(c);
    SnapshotStore store = store();
    Attachment a = attach(store);
    RemoteCounter r = a.get("counter-0", RemoteCounter.class);
    assertThat(r.value()).isEqualTo(new Counter.State("score", 0));

    c.add(5);
    c.add(2);
    await().atMost(WAIT).until(() -> r.value().count() == 7);
    c.rename("points");
    await().atMost(WAIT).until(() -> r.value().name().equals("points"));

    store.flush();
    Snapshot stored = store.get(new SnapshotKey(ORIGIN, "world", "anonymous", "counter-0"))
        .orElseThrow();
    PbCodec codec = PbCodec.of(REGISTRY);
    assertThat(codec.decode(stored.state(), Counter.State.class))
        .isEqualTo(new Counter.State("points", 7));
    assertThat(stored.formatVersion()).as("derived from the record's shape")
        .isEqualTo(codec.formatOf(Counter.State.class));
    Attachment again = attach(store);
    assertThat(again.hits()).isEqualTo(1);
    assertThat(again.get("counter-0", RemoteCounter.class).value())
        .isEqualTo(new Counter.State("points", 7));
  }

  @Test
  void anAttachmentGrowsFromTheStoreAndDroppedObjectsGetNoMoreUpdates() throws Exception {
    List<Tile> tiles = PublishingTest.tiles(6);
    service.publishAll(tiles);
    SnapshotStore store = store();
    attach(store);    // every tile is in the store now
    PublishedClient client =
        PublishedClient.builder().store(store).expectedServerId(ORIGIN).build();
    RemoteReference endpoint = connect();
    Attachment a = client.attach(endpoint, "world", List.of("tile-0", "tile-1")).join();
    assertThat(a.objects()).containsOnlyKeys("tile-0", "tile-1");
    long calls = endpoint.connection().stats().callsSent();

    var added = a.add(List.of("tile-2", "tile-3")).get(10, TimeUnit.SECONDS);
    assertThat(added).containsOnlyKeys("tile-2", "tile-3");
    assertThat(endpoint.connection().stats().callsSent() - calls).as("one round trip").isEqualTo(1);
    assertThat(added.values()).allSatisfy(r -> assertThat(r.fromStore()).isTrue());
    assertThat(a.objects()).containsOnlyKeys("tile-0", "tile-1", "tile-2", "tile-3");

    TileCache t0 = a.get("tile-0", TileCache.class);
    a.drop(List.of("tile-0")).get(10, TimeUnit.SECONDS);
    assertThat(a.objects()).doesNotContainKey("tile-0");
    await().atMost(WAIT).until(() -> tiles.get(0).observerCount() == 1);    // the first client's
    tiles.get(0).change("lava", 9);
    tiles.get(2).change("ice", 9);
    TileCache t2 = a.get("tile-2", TileCache.class);
    await().atMost(WAIT).until(() -> "ice".equals(t2.terrain()));
    assertThat(t0.terrain()).as("a dropped object gets no updates").isEqualTo("grass-0");
    // Unpublishing a dropped object does not reach the attachment's listeners.
    List<RemotePublished> gone = new CopyOnWriteArrayList<>();
    a.onUnpublished(gone::add);
    service.unpublish("tile-0");
    service.unpublish("tile-3");
    await().atMost(WAIT).until(() -> gone.size() == 1);
    assertThat(gone.get(0).identity()).isEqualTo("tile-3");
  }

  /** A service whose announcements wait for {@code announcer}, served as {@code name + suffix}. */
  PublishingService serviceAnnouncedBy(HeldExecutor announcer, String suffix) {
    PublishingService held = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").announcer(announcer).build();
    cleanup.register(PbServer.builder().inProcess(name + suffix).registry(REGISTRY)
        .root(held.endpoint()).build().start());
    held.publishAll(PublishingTest.tiles(2));
    return held;
  }

  /** A live attachment over a client of {@code serverName}, on {@code executor} if not null. */
  Attachment attachTo(String serverName, java.util.concurrent.Executor executor) {
    PbClient.Builder b = PbClient.builder().inProcess(serverName).registry(REGISTRY);
    if (executor != null) {
      b.executor(executor);
    }
    return attach(cleanup.register(b.build()).rootObject().join(), store());
  }

  /**
   * Drops {@code identity} with {@code executor} held, running what the drop's answer sets off one
   * executor task at a time until the drop completed; answers how many tasks are held then.
   */
  static int dropStepByStep(Attachment a, HeldExecutor executor, String identity) {
    executor.hold();
    CompletableFuture<Void> dropped = a.drop(List.of(identity));
    while (!dropped.isDone()) {
      await().atMost(WAIT).until(() -> executor.held() >= 1);
      executor.runHeld();
    }
    executor.runHeld();
    return executor.held();
  }

  @Test
  void anObjectDroppedBeforeItsAnnouncementWasSentIsNotShownWhenTheAnnouncementGoesOut()
      throws Exception {
    HeldExecutor announcer = cleanup.register(HeldExecutor.holding());
    PublishingService held = serviceAnnouncedBy(announcer, "-held");
    Attachment a = attachTo(name + "-held", null);

    // published while attached: its announcement waits for the announcer, and the client drops
    // it meanwhile (the server answers the drop before the announcement is sent)
    held.publish(new Tile("tile-new", "sand", 7));
    a.drop(List.of("tile-new")).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    announcer.release();

    // announcements to one attachment arrive in order: once this one is shown, the dropped
    // object's, had it been sent, was applied before it
    held.publish(new Tile("tile-later", "snow", 8));
    await().atMost(WAIT).until(() -> a.objects().containsKey("tile-later"));
    assertThat(a.objects()).as("a dropped object is not shown").doesNotContainKey("tile-new")
        .containsOnlyKeys("tile-0", "tile-1", "tile-later");
  }

  @Test
  void anAnnouncementReadBeforeTheDropsAnswerIsIgnoredEvenWhenTheAnswerRunsFirst()
      throws Exception {
    HeldExecutor announcer = cleanup.register(HeldExecutor.holding());
    PublishingService held = serviceAnnouncedBy(announcer, "-order");
    // the client's executor: runs tasks as they come, and newest first once held
    HeldExecutor executor = cleanup.register(HeldExecutor.running());
    Attachment a = attachTo(name + "-order", executor);

    // the server announces tile-new; the client reads it but has not run it when it drops
    // tile-new, and the drop's answer is read after it
    held.publish(new Tile("tile-new", "sand", 7));
    executor.hold();
    announcer.release();
    await().atMost(WAIT).until(() -> executor.held() >= 1);
    CompletableFuture<Void> dropped = a.drop(List.of("tile-new"));
    await().atMost(WAIT).until(() -> executor.held() >= 2);
    executor.releaseNewestFirst();
    dropped.get(WAIT.toSeconds(), TimeUnit.SECONDS);

    // announcements to one attachment are applied in order: once this one is shown, the
    // dropped object's was applied (or ignored) before it
    held.publish(new Tile("tile-later", "snow", 8));
    await().atMost(WAIT).until(() -> a.objects().containsKey("tile-later"));
    assertThat(a.objects()).as("a dropped object is not shown").doesNotContainKey("tile-new")
        .containsOnlyKeys("tile-0", "tile-1", "tile-later");
  }

  @Test
  void anObjectPublishedAgainUnderADroppedIdentityAfterTheDropsAnswerIsShown() throws Exception {
    service.publishAll(PublishingTest.tiles(2));
    HeldExecutor executor = cleanup.register(HeldExecutor.running());
    Attachment a = attachTo(name, executor);
    int before = dropStepByStep(a, executor, "tile-0");

    // after the answer the server withdraws tile-0 and publishes a new object under it, which
    // this whole-service attachment covers again; the client reads that announcement after
    // the drop's answer, and a pool may run it before the rest of what the answer chained
    service.unpublish("tile-0");
    service.publish(new Tile("tile-0", "lava", 9));
    await().atMost(WAIT).until(() -> executor.held() > before);
    executor.releaseNewestFirst();

    service.publish(new Tile("tile-later", "snow", 8));
    await().atMost(WAIT).until(() -> a.objects().containsKey("tile-later"));
    assertThat(a.objects()).as("announced after the drop's answer: it is wanted")
        .containsKey("tile-0");
    assertThat(a.get("tile-0", TileCache.class).terrain()).isEqualTo("lava");
  }

  @Test
  void anIdentityDroppedBeforeItWasPublishedIsShownWhenItIsPublishedAfterTheDrop()
      throws Exception {
    service.publishAll(PublishingTest.tiles(2));
    HeldExecutor executor = cleanup.register(HeldExecutor.running());
    Attachment a = attachTo(name, executor);
    int before = dropStepByStep(a, executor, "tile-9");

    // published once the drop completed: the whole-service attachment covers it
    service.publish(new Tile("tile-9", "lava", 9));
    await().atMost(WAIT).until(() -> executor.held() > before);
    executor.releaseNewestFirst();

    service.publish(new Tile("tile-later", "snow", 8));
    await().atMost(WAIT).until(() -> a.objects().containsKey("tile-later"));
    assertThat(a.objects()).as("published after the drop completed: it is wanted")
        .containsKey("tile-9");
  }

  @Test
  void aPublishableReturnedOutsideAnAttachIsRefusedWithAClearError() {
    Tile tile = new Tile("tile-0", "grass", 1);
    service.publish(tile);
    String other = "pbj-live-other-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(other).registry(REGISTRY)
        .root(new Referenceable() {
          @Remote
          public Object leak() {
            return tile;
          }
        }).build().start());
    RemoteReference root = cleanup.register(PbClient.builder().inProcess(other)
        .registry(REGISTRY).build()).rootObject().join();
    assertThatThrownBy(() -> root.callRemote("leak").get(10, TimeUnit.SECONDS))
        .hasMessageContaining("tile-0 was sent outside an attach");
    assertThat(root.connection().isOpen()).isTrue();
  }

  @Test
  void oneSharedEndpointServesEveryConnection() {
    service.publishAll(PublishingTest.tiles(2));
    Attachment a = attach(store());
    Attachment b = attach(store());
    assertThat(a.objects()).hasSize(2);
    assertThat(b.objects()).hasSize(2);
    assertThat(service.subscriberCount()).isEqualTo(2);
    a.endpoint().connection().close();
    await().atMost(WAIT).until(() -> service.subscriberCount() == 1);
  }

  @Test
  void aDeltaThatDoesNotFollowTheStateHeldIsRefreshedWholeNotApplied() {
    Tile tile = new Tile("tile-0", "grass", 1);
    service.publish(tile);
    Attachment a = attach(store());
    TileCache t = a.get("tile-0", TileCache.class);
    long calls = a.endpoint().connection().stats().callsSent();
    // A delta five revisions ahead of what the client holds (none yet): not applicable on top.
    t.delta("tile-0", 99, 5, "append", new Object[] {"-bogus"});
    await().atMost(WAIT).until(() -> a.endpoint().connection().stats().callsSent() > calls);
    tile.append("+ok");
    await().atMost(WAIT).until(() -> "grass+ok".equals(t.terrain()));
    assertThat(t.version()).isEqualTo(tile.version());
  }

  @Test
  void aStateOfAnUnregisteredShapeIsNeverReadFromAnOldSnapshot() {
    Counter c = new Counter("counter-0", "score");
    service.publish(c);
    SnapshotStore store = store();
    attach(store);
    store.flush();
    Snapshot stored = store.get(key("counter-0")).orElseThrow();
    // Forge an entry of the same version under another format, as an older record shape wrote.
    store.put(key("counter-0"), Snapshot.of(stored.version(), stored.formatVersion() + 1,
        stored.state()));
    store.flush();
    Attachment again = attach(store);
    assertThat(again.hits()).as("another format is never a hit").isZero();
    assertThat(again.get("counter-0", RemoteCounter.class).value())
        .isEqualTo(new Counter.State("score", 0));
    assertThat(Set.of(again.inlined() + again.fetched())).containsExactly(1);
  }

  @Test
  void aDeltaForAMethodTheClientLacksRefreshesTheWholeState() {
    Counter c = new Counter("counter-0", "score");
    service.publish(c);
    Attachment a = attach(store());
    RemoteCounter r = a.get("counter-0", RemoteCounter.class);
    synchronized (c) {
      c.republishDelta("noSuchDelta", 1);
    }
    c.add(3);
    await().atMost(WAIT).until(() -> r.version() == c.version() && r.value().count() == 3);
  }

  @Test
  void aServerThatAnnouncesFasterThanTheClientAppliesLosesTheConnectionNotTheClientsMemory()
      throws Exception {
    java.util.concurrent.CompletableFuture<io.pbj.publish.internal.AttachReply> never =
        new java.util.concurrent.CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger sent = new java.util.concurrent.atomic.AtomicInteger();
    String flood = "pbj-live-flood-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(flood).registry(REGISTRY)
        .root(new Referenceable() {
          @Remote
          public java.util.concurrent.CompletableFuture<io.pbj.publish.internal.AttachReply>
              attach(String id, String svc, String key, String[] ids, long[] versions,
                  String[] only, byte[] nonce, byte[] relayKey, RemoteReference sink) {
            // The answer never comes: every announcement waits in the client's chain.
            for (int i = 0; i < Announcements.MAX_WAITING_STEPS + 100; i++) {
              sink.callRemoteOneWay(Announcements.UNPUBLISHED, (Object) new String[] {"x" + i});
              sent.incrementAndGet();
            }
            return never;
          }
        }).build().start());
    RemoteReference root = cleanup.register(PbClient.builder().inProcess(flood)
        .registry(REGISTRY).build()).rootObject().join();
    var attach = PublishedClient.builder().store(store()).mode(PublishedClient.Mode.VERSIONS)
        .allowUnprovenServerIds().build().attach(root, "world");
    await().atMost(WAIT).until(() -> !root.connection().isOpen());
    assertThatThrownBy(() -> attach.get(10, TimeUnit.SECONDS)).isNotNull();
    assertThat(sent.get()).isGreaterThan(Announcements.MAX_WAITING_STEPS);
  }

  @Test
  void askingAgainForWhatTheAttachmentCoversCostsNoState() throws Exception {
    service.publish(new Tile("tile-0", "x".repeat(4000), 1));
    Attachment a = attach(store());
    RemoteReference endpoint = a.endpoint();
    var before = endpoint.connection().stats();
    for (int i = 0; i < 20; i++) {
      endpoint.callRemote(List.class, "interest", new String[] {"tile-0"}, null, null,
          new String[0]).get(10, TimeUnit.SECONDS);
    }
    var after = endpoint.connection().stats();
    assertThat(after.bytesReceived() - before.bytesReceived())
        .as("20 requests for a 4 KB object the attachment holds")
        .isLessThan(4000);
  }

  @Test
  void aServerThatDoesNotProveItsIdCannotMakeTheClientForgetWhatItStored() {
    PublishingService unproven =
        PublishingService.builder().unprovenServerId("lan-world").service("world").build();
    unproven.publishAll(PublishingTest.tiles(3));
    String lan = "pbj-live-lan-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(lan).registry(REGISTRY)
        .root(unproven.endpoint()).build().start());
    SnapshotStore store = store();
    PublishedClient trusting = PublishedClient.builder().store(store)
        .expectedServerId("lan-world").allowUnprovenServerIds().build();
    Attachment a = trusting.attach(cleanup.register(PbClient.builder().inProcess(lan)
        .registry(REGISTRY).build()).rootObject().join(), "world").join();
    List<RemotePublished> gone = new CopyOnWriteArrayList<>();
    a.onUnpublished(gone::add);
    unproven.unpublish("tile-0");
    await().atMost(WAIT).until(() -> gone.size() == 1);
    assertThat(a.objects()).doesNotContainKey("tile-0");
    unproven.unpublish("tile-1");
    Attachment again = trusting.attach(cleanup.register(PbClient.builder().inProcess(lan)
        .registry(REGISTRY).build()).rootObject().join(), "world").join();
    assertThat(again.objects()).containsOnlyKeys("tile-2");
    assertThat(again.removed()).isZero();
    store.flush();
    assertThat(store.get(new SnapshotKey("lan-world", "world", "anonymous", "tile-0")))
        .as("kept: an unproven server may be anybody claiming the id").isPresent();
    assertThat(store.get(new SnapshotKey("lan-world", "world", "anonymous", "tile-1")))
        .isPresent();
  }
}
