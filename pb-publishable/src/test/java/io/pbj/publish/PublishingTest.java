package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.publish.PublishedClient.Mode;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class PublishingTest {
  static final PbRegistry REGISTRY =
      Publishing.register(PbRegistry.builder()).registerCache(Tile.class, TileCache.class).build();

  /** The id of the server most tests run: {@code TestKeys.key("origin-1")}'s. */
  static final String ORIGIN = TestKeys.id("origin-1");

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** One published world served in-process. */
  final class World {
    final PublishingService service;
    final PbServer server;
    final String name = "pbj-publish-" + UUID.randomUUID();

    /** A world served by the server whose key is {@code TestKeys.key(keyName)}. */
    World(String keyName, List<Tile> tiles) {
      service =
          PublishingService.builder().serverKey(TestKeys.key(keyName)).service("world").build();
      service.publishAll(tiles);
      server = start(service, name);
    }

    World(PublishingService service) {
      this.service = service;
      server = start(service, name);
    }

    private PbServer start(PublishingService s, String n) {
      return cleanup.register(
          PbServer.builder().inProcess(n).registry(REGISTRY).rootFactory(s::endpoint).build().start());
    }

    PbClient client() {
      return cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build());
    }

    /** A fresh connection attached with {@code publishing}; the connection stays open. */
    Session attach(PublishedClient publishing) {
      PbClient client = client();
      RemoteReference endpoint = client.rootObject().join();
      PbConnection.Stats before = endpoint.connection().stats();
      Attachment a = publishing.attach(endpoint, "world").join();
      return new Session(client, endpoint, a, before, endpoint.connection().stats());
    }

    void stop() {
      server.close();
    }
  }

  record Session(
      PbClient client, RemoteReference endpoint, Attachment attachment,
      PbConnection.Stats before, PbConnection.Stats after) {
    TileCache tile(String id) {
      return attachment.get(id, TileCache.class);
    }

    long callsMade() {
      return after.callsSent() - before.callsSent();
    }

    long bytesReceived() {
      return after.bytesReceived() - before.bytesReceived();
    }

    void close() {
      client.close();
    }
  }

  static List<Tile> tiles(int n) {
    List<Tile> tiles = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      tiles.add(new Tile("tile-" + i, "grass-" + i, 1));
    }
    return tiles;
  }

  static SnapshotStore memoryStore() {
    return SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
  }

  SnapshotStore store() {
    return cleanup.register(memoryStore());
  }

  static PublishedClient inventoryClient(SnapshotStore store, String serverId) {
    return PublishedClient.builder().store(store).expectedServerId(serverId).build();
  }

  static PublishedClient versionsClient(SnapshotStore store) {
    return PublishedClient.builder().store(store).mode(Mode.VERSIONS).build();
  }

  // --- Twisted's test_publishable ---------------------------------------------------------------

  @Test
  void firstSessionActivatesFromServerAndSecondFromStore() {
    World world = new World("origin-1", tiles(3));
    SnapshotStore store = store();
    for (Mode mode : Mode.values()) {
      SnapshotStore s = mode == Mode.INVENTORY ? store : store();
      PublishedClient publishing = PublishedClient.builder().store(s).mode(mode)
          .expectedServerId(ORIGIN).build();

      Session first = world.attach(publishing);
      TileCache t = first.tile("tile-1");
      assertThat(t.isActivated()).isTrue();
      assertThat(t.fromStore()).as("first session is not clean (%s)", mode).isFalse();
      assertThat(t.terrain()).isEqualTo("grass-1");
      assertThat(t.terrainWhenActivated).as("activated() ran after the state").isEqualTo("grass-1");
      assertThat(t.version()).isEqualTo(1);
      assertThat(first.attachment().hits()).isZero();
      first.close();

      Session second = world.attach(publishing);
      TileCache again = second.tile("tile-1");
      assertThat(again.fromStore()).as("second session is clean from the store (%s)", mode).isTrue();
      assertThat(again.terrain()).isEqualTo("grass-1");
      assertThat(again.whenReady()).isCompletedWithValue(again);
      assertThat(second.attachment().hits()).isEqualTo(3);
      second.close();
    }
  }

  @Test
  void restartedServerWithSameIdAndVersionsGivesOnlyHits() {
    SnapshotStore store = store();
    PublishedClient publishing = inventoryClient(store, ORIGIN);
    World world = new World("origin-1", tiles(20));
    world.attach(publishing).close();
    world.stop();

    World restarted = new World("origin-1", tiles(20));
    Session s = restarted.attach(publishing);
    assertThat(s.attachment().hits()).isEqualTo(20);
    assertThat(s.attachment().inlined() + s.attachment().fetched()).isZero();
    assertThat(s.attachment().objects().values()).allMatch(RemotePublished::fromStore);
  }

  @Test
  void differentServerIdNeverSharesEntries() {
    SnapshotStore store = store();
    World a = new World("origin-a", tiles(5));
    World b = new World("origin-b", tiles(5));
    a.attach(inventoryClient(store, TestKeys.id("origin-a"))).close();

    Session s = b.attach(versionsClient(store));
    assertThat(s.attachment().serverId()).isEqualTo(TestKeys.id("origin-b"));
    assertThat(s.attachment().hits()).isZero();
    assertThat(store.list(SnapshotPrefix.of(TestKeys.id("origin-a")))).hasSize(5);
    assertThat(store.list(SnapshotPrefix.of(TestKeys.id("origin-b")))).hasSize(5);

    CompletableFuture<Attachment> wrong =
        inventoryClient(store, TestKeys.id("origin-a"))
            .attach(b.client().rootObject().join(), "world");
    assertThatThrownBy(wrong::join)
        .hasCauseInstanceOf(PublishException.class)
        .hasMessageContaining("expected server id " + TestKeys.id("origin-a")
            + " but the server is " + TestKeys.id("origin-b"));
  }

  @Test
  void republishReachesObserversAndTheStore() {
    List<Tile> tiles = tiles(3);
    World world = new World("origin-1", tiles);
    SnapshotStore store = store();
    Session s = world.attach(inventoryClient(store, ORIGIN));
    TileCache t = s.tile("tile-2");

    tiles.get(2).change("lava", 7);
    await().atMost(Duration.ofSeconds(10)).until(() -> "lava".equals(t.terrain()));
    assertThat(t.version()).isEqualTo(7);
    assertThat(t.fromStore()).isFalse();
    SnapshotKey key = new SnapshotKey(ORIGIN, "world", "anonymous", "tile-2");
    await().atMost(Duration.ofSeconds(10))
        .until(() -> store.get(key).map(Snapshot::version).orElse(-1L) == 7);
    assertThat(new String(store.get(key).orElseThrow().state(), StandardCharsets.UTF_8))
        .isEqualTo("t:lava");
    s.close();

    Session next = world.attach(inventoryClient(store, ORIGIN));
    assertThat(next.tile("tile-2").fromStore()).isTrue();
    assertThat(next.tile("tile-2").terrain()).isEqualTo("lava");
  }

  @Test
  void serverAssignedVersionsIncreaseAndReachTheClient() {
    Tile tile = new Tile("tile-0", "grass");
    PublishingService service =
        PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world")
            .firstVersion(100).build();
    service.publish(tile);
    assertThat(tile.version()).isEqualTo(100);
    World world = new World(service);
    Session s = world.attach(versionsClient(store()));
    TileCache t = s.tile("tile-0");
    tile.change("sand");
    assertThat(tile.version()).isEqualTo(101);
    await().atMost(Duration.ofSeconds(10)).until(() -> t.version() == 101);
    assertThat(t.terrain()).isEqualTo("sand");
  }

  @Test
  void corruptOrMissingStoreEntriesAreRefetchedNotUsed() {
    World world = new World("origin-1", tiles(4));
    SnapshotStore store = store();
    PublishedClient publishing = inventoryClient(store, ORIGIN);
    world.attach(publishing).close();

    // Bytes that pass the store's checksum but that the object refuses, at the server's version.
    SnapshotKey bad = new SnapshotKey(ORIGIN, "world", "anonymous", "tile-1");
    store.put(bad, Snapshot.of(1, 1, "garbage".getBytes(StandardCharsets.UTF_8)));
    // An entry listed in the inventory that has vanished by the time it is read.
    SnapshotStore vanishing = new HookedStore(store, "tile-3", () -> {});

    Session s = world.attach(inventoryClient(vanishing, ORIGIN));
    assertThat(s.tile("tile-1").terrain()).isEqualTo("grass-1");
    assertThat(s.tile("tile-1").fromStore()).isFalse();
    assertThat(s.tile("tile-3").terrain()).isEqualTo("grass-3");
    assertThat(s.tile("tile-3").fromStore()).isFalse();
    assertThat(s.attachment().hits()).isEqualTo(2);
    assertThat(s.attachment().fetched()).isEqualTo(2);
    assertThat(s.attachment().extraCalls()).isEqualTo(1);
    assertThat(new String(store.get(bad).orElseThrow().state(), StandardCharsets.UTF_8))
        .isEqualTo("t:grass-1");
  }

  @Test
  void fetchNamingOneIdentityManyTimesIsRefusedNotAmplified() throws Exception {
    World world = new World("origin-1", tiles(3));
    RemoteReference endpoint = world.client().rootObject().join();
    String[] repeated = new String[60_000];
    java.util.Arrays.fill(repeated, "tile-0");
    Throwable refused =
        PbException.unwrap(
            org.assertj.core.api.Assertions.catchThrowable(
                () -> endpoint.callRemote("fetch", (Object) repeated).get(10, TimeUnit.SECONDS)));
    assertThat(refused).isInstanceOf(PbException.class).hasMessageContaining("more than once");
    assertThat(((PbException) refused).code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
    // distinct identities are answered, each state once
    List<?> states =
        endpoint
            .callRemote(List.class, "fetch", (Object) new String[] {"tile-0", "tile-1", "nope"})
            .get(10, TimeUnit.SECONDS);
    assertThat(states).hasSize(3);
    assertThat(states.get(2)).isNull();
  }

  @Test
  void attachNamingOneIdentityManyTimesIsRefusedNotAmplified() throws Exception {
    World world = new World("origin-1", tiles(3));
    RemoteReference endpoint = world.client().rootObject().join();
    String[] only = new String[20_000];
    java.util.Arrays.fill(only, "tile-1");
    Throwable refused =
        PbException.unwrap(
            org.assertj.core.api.Assertions.catchThrowable(
                () ->
                    endpoint
                        .callRemote(
                            "attach", null, "world", "anonymous", null, null, only, null, null, null)
                        .get(10, TimeUnit.SECONDS)));
    assertThat(refused).isInstanceOf(PbException.class).hasMessageContaining("more than once");
    assertThat(((PbException) refused).code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
    assertThat(endpoint.connection().isOpen()).isTrue();
  }

  @Test
  void anObjectUnpublishedBeforeItsFetchLeavesTheAttachWithoutFailingIt() {
    List<Tile> tiles = tiles(3);
    World world = new World("origin-1", tiles);
    SnapshotStore store = store();
    world.attach(inventoryClient(store, ORIGIN)).close();
    tiles.get(0).change("lava", 2);
    // The server stops offering tile-0 between the attach answer and the fetch.
    PbClient client = world.client();
    RemoteReference endpoint = client.rootObject().join();
    List<TileCache> created = new CopyOnWriteArrayList<>();
    TileCache.onCreate = created::add;
    Attachment attached;
    try {
      attached = versionsClient(
              new HookedStore(store, null, () -> world.service.unpublish("tile-0")))
          .attach(endpoint, "world").join();
    } finally {
      TileCache.onCreate = null;
    }
    assertThat(attached.objects()).containsOnlyKeys("tile-1", "tile-2");
    TileCache gone = created.stream().filter(t -> "tile-0".equals(t.identity())).findFirst()
        .orElseThrow();
    assertThat(gone.isActivated()).isFalse();
    assertThatThrownBy(() -> gone.whenReady().get(10, TimeUnit.SECONDS))
        .as("whenReady of the unpublished object fails with the cause, it does not hang")
        .hasCauseInstanceOf(PublishException.class)
        .hasMessageContaining("tile-0 was unpublished");
    assertThat(store.get(new SnapshotKey(ORIGIN, "world", "anonymous", "tile-0")))
        .as("its store entry is removed").isEmpty();
  }

  @Test
  void lostConnectionDuringFetchFailsTheAttach() {
    World world = new World("origin-1", tiles(3));
    PbClient client = world.client();
    RemoteReference endpoint = client.rootObject().join();
    CompletableFuture<Attachment> attach =
        versionsClient(new HookedStore(store(), null, () -> endpoint.connection().close()))
            .attach(endpoint, "world");
    assertThatThrownBy(() -> attach.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(PublishException.class)
        .hasMessageContaining("fetching 3 stale objects");
  }

  // --- perspectives ----------------------------------------------------------------------------

  /** A logged-in player whose avatar hands out the world endpoint of its own connection. */
  public static final class Player implements Referenceable {
    final String name;
    final Referenceable world;

    Player(String name, Referenceable world) {
      this.name = name;
      this.world = world;
    }

    @Remote
    public Referenceable world() {
      return world;
    }
  }

  @Test
  void perspectiveStateIsStoredPerPerspective() {
    Function<Object, String> view = p -> "@" + ((Player) p).name;
    PublishingService service = PublishingService.builder()
        .serverKey(TestKeys.key("origin-1")).service("world")
        .perspectiveKey(p -> ((Player) p).name).build();
    service.publish(new Tile("tile-0", "grass", 1, view));
    Portal portal = Portal.builder((id, mind, connection) -> CompletableFuture.completedFuture(
            Avatar.of(new Player(id.name(), service.endpoint(connection)))))
        .checker(PasswordChecker.builder().user("alice", "a-pw").user("bob", "b-pw").build())
        .build();
    String name = "pbj-publish-" + UUID.randomUUID();
    cleanup.register(PbServer.builder().inProcess(name).registry(REGISTRY)
        .rootFactory(portal::root).build().start());
    SnapshotStore store = store();
    List<Integer> hits = new ArrayList<>();
    for (String[] user : new String[][] {{"alice", "a-pw"}, {"bob", "b-pw"}, {"alice", "a-pw"}}) {
      PbClient client = cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build());
      RemoteReference avatar = Login.login(client.rootObject().join(),
          Credentials.password(user[0], user[1]), null).join();
      RemoteReference endpoint = avatar.callRemote(RemoteReference.class, "world").join();
      Attachment a = PublishedClient.builder().store(store).expectedServerId(ORIGIN)
          .perspectiveKey(PublishingService.loggedInKey(user[0])).build()
          .attach(endpoint, "world").join();
      assertThat(a.perspectiveKey()).isEqualTo("user:" + user[0]);
      assertThat(a.get("tile-0", TileCache.class).terrain()).isEqualTo("grass@" + user[0]);
      hits.add(a.hits());
      client.close();
    }
    assertThat(hits).as("alice's second session uses her entry").containsExactly(0, 0, 1);
    String id = ORIGIN;
    assertThat(
            store.get(new SnapshotKey(id, "world", "user:alice", "tile-0")).orElseThrow().state())
        .isEqualTo("t:grass@alice".getBytes(StandardCharsets.UTF_8));
    assertThat(store.get(new SnapshotKey(id, "world", "user:bob", "tile-0")).orElseThrow().state())
        .isEqualTo("t:grass@bob".getBytes(StandardCharsets.UTF_8));
  }

  // --- the handshake budget -------------------------------------------------------------------

  @Test
  void inventoryModeNeedsNoExtraRoundTripAndWarmBytesAreSmall() {
    int n = 1000;
    List<Tile> tiles = new ArrayList<>();
    String kib = "x".repeat(1024);
    for (int i = 0; i < n; i++) {
      tiles.add(new Tile("tile-" + i, kib + i, 1));
    }
    World world = new World("origin-1", tiles);
    SnapshotStore store = store();
    PublishedClient publishing = inventoryClient(store, ORIGIN);

    Session cold = world.attach(publishing);
    cold.close();
    for (int i = 0; i < n / 100; i++) {
      tiles.get(i * 100).change("changed" + i, 2);
    }
    Session warm = world.attach(publishing);

    assertThat(cold.callsMade()).as("cold calls").isEqualTo(1);
    assertThat(warm.callsMade()).as("warm calls: attach only").isEqualTo(1);
    assertThat(warm.attachment().extraCalls()).isZero();
    assertThat(warm.attachment().hits()).isEqualTo(n - n / 100);
    assertThat(warm.attachment().inlined()).isEqualTo(n / 100);
    assertThat(warm.tile("tile-100").terrain()).isEqualTo("changed1");
    assertThat(warm.bytesReceived()).as("warm bytes").isLessThan(cold.bytesReceived() / 20);
    System.out.printf("inventory mode, %d x 1 KiB, 1%% stale: cold %d B in %d call(s), warm %d B"
            + " in %d call(s), warm sent %d B%n",
        n, cold.bytesReceived(), cold.callsMade(), warm.bytesReceived(), warm.callsMade(),
        warm.after().bytesSent() - warm.before().bytesSent());
  }

  @Test
  void versionsModeNeedsAtMostOneExtraRoundTrip() {
    int n = 1000;
    List<Tile> tiles = new ArrayList<>();
    String kib = "x".repeat(1024);
    for (int i = 0; i < n; i++) {
      tiles.add(new Tile("tile-" + i, kib + i, 1));
    }
    World world = new World("origin-1", tiles);
    SnapshotStore store = store();
    PublishedClient publishing = versionsClient(store);

    Session cold = world.attach(publishing);
    cold.close();
    Session allHits = world.attach(publishing);
    allHits.close();
    for (int i = 0; i < n / 10; i++) {
      tiles.get(i * 10).change("changed" + i, 2);
    }
    Session warm = world.attach(publishing);

    assertThat(cold.callsMade()).as("cold: attach and one batched fetch").isEqualTo(2);
    assertThat(allHits.callsMade()).as("nothing stale: attach only").isEqualTo(1);
    assertThat(warm.callsMade()).as("10% stale: attach and one fetch").isEqualTo(2);
    assertThat(warm.attachment().fetched()).isEqualTo(n / 10);
    assertThat(allHits.bytesReceived()).isLessThan(cold.bytesReceived() / 20);
    System.out.printf("versions mode, %d x 1 KiB: cold %d B in %d calls, 0%% stale %d B in %d"
            + " call(s), 10%% stale %d B in %d calls%n",
        n, cold.bytesReceived(), cold.callsMade(), allHits.bytesReceived(), allHits.callsMade(),
        warm.bytesReceived(), warm.callsMade());
  }

  @Test
  void fiftyThousandObjectsInOneSessionWithProgress() {
    int n = 50_000;
    World world = new World("origin-1", tiles(n));
    SnapshotStore store = cleanup.register(
        SnapshotStore.builder().backend(StoreBackend.MEMORY).writeQueueBound(100_000).build());
    List<ActivationProgress> progress = new CopyOnWriteArrayList<>();
    PublishedClient publishing = PublishedClient.builder().store(store)
        .expectedServerId(ORIGIN).progress(progress::add).build();

    Session cold = world.attach(publishing);
    assertThat(cold.attachment().objects()).hasSize(n);
    assertThat(progress).isNotEmpty();
    assertThat(progress.get(progress.size() - 1).done()).isTrue();
    assertThat(progress.get(progress.size() - 1).objectsTotal()).isEqualTo(n);
    assertThat(progress).extracting(ActivationProgress::objectsDone).isSorted();
    cold.close();

    Session warm = world.attach(publishing);
    assertThat(warm.attachment().hits()).isEqualTo(n);
    assertThat(warm.tile("tile-49999").terrain()).isEqualTo("grass-49999");
  }

  @Test
  void diskStoreKeepsSnapshotsAcrossReopen(@TempDir Path dir) {
    World world = new World("origin-1", tiles(50));
    Path file = dir.resolve("cache.mv");
    try (SnapshotStore store =
        SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(file).build()) {
      world.attach(inventoryClient(store, ORIGIN)).close();
    }
    try (SnapshotStore store =
        SnapshotStore.builder().backend(StoreBackend.MVSTORE).path(file).build()) {
      Session s = world.attach(inventoryClient(store, ORIGIN));
      assertThat(s.attachment().hits()).isEqualTo(50);
      s.close();
    }
  }

  @Test
  void builderOptionsFailAtOnce() {
    assertThatThrownBy(() -> PublishedClient.builder().store(store()).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("expectedServerId");
    assertThatThrownBy(
            () -> PublishingService.builder().serverKey(TestKeys.key("a"))
                .serverKey(TestKeys.key("b")))
        .hasMessageContaining("serverKey was already set");
    Tile tile = new Tile("t", "grass", 3);
    assertThatThrownBy(() -> tile.republish(3)).hasMessageContaining("must change the version");
    assertThatThrownBy(tile::republish).hasMessageContaining("not published");
  }

  static Throwable root(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
