package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.ReconnectPolicy;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Relays of a live world: what the origin publishes, unpublishes and changes (whole states and
 * deltas) after the relay attached travels down; a relay that loses its upstream keeps serving,
 * reconnects with backoff, re-attaches from its store and forwards exactly what changed meanwhile.
 */
class RelayLiveTest {
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register(Counter.State.class)
      .registerCache(Tile.class, TileCache.class)
      .registerCache(Counter.class, RemoteCounter.class)
      .registerCache(Note.class, NoteCache.class)
      .build();
  static final String ORIGIN = TestKeys.id("origin-1");
  static final Duration WAIT = Duration.ofSeconds(20);
  /** Short backoff, so tests reconnect quickly; the shape is the production one. */
  static final ReconnectPolicy FAST =
      ReconnectPolicy.exponential(Duration.ofMillis(10), Duration.ofMillis(200));

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final List<Relay> relays = new CopyOnWriteArrayList<>();

  /** Relays stop reconnecting before the cleanup closes the servers they reconnect to. */
  @AfterEach
  void closeRelays() {
    relays.forEach(Relay::close);
  }

  /** A published note whose client class cannot encode its state (no encodedState()). */
  static final class Note extends Publishable {
    private String text;

    Note(String id, String text) {
      super(id);
      this.text = text;
    }

    @Override
    protected synchronized byte[] publishedState(Object perspective) {
      return text.getBytes(StandardCharsets.UTF_8);
    }

    synchronized void append(String more) {
      text = text + more;
      republishDelta("append", more);
    }

    synchronized String text() {
      return text;
    }
  }

  /** The client side of {@link Note}: applies deltas but cannot encode its state after one. */
  public static final class NoteCache extends RemotePublished {
    volatile String text;

    @Override
    protected void applyPublishedState(byte[] state, int formatVersion) {
      text = new String(state, StandardCharsets.UTF_8);
    }

    @Remote
    public void append(String more) {
      text = text + more;
    }
  }

  /** A server reachable in-process under {@code name}. */
  PbServer serve(String name, Object root) {
    return cleanup.register(PbServer.builder().inProcess(name).registry(REGISTRY)
        .root(root).build().start());
  }

  String serveNew(Object root) {
    String name = "pbj-relay-live-" + UUID.randomUUID();
    serve(name, root);
    return name;
  }

  CompletableFuture<RemoteReference> connectAsync(String name) {
    return cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build())
        .rootObject();
  }

  RemoteReference connect(String name) {
    return connectAsync(name).join();
  }

  SnapshotStore store() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  Relay.Builder relayBuilder(SnapshotStore store) {
    return Relay.builder().registry(REGISTRY).reconnect(FAST).delegateToRelays(p -> true)
        .upstream(PublishedClient.builder().store(store).expectedServerId(ORIGIN));
  }

  /** A relay that reconnects through {@code connector}. */
  Relay relay(SnapshotStore store, Supplier<? extends CompletionStage<RemoteReference>> connector) {
    Relay relay = cleanup.register(relayBuilder(store).build());
    relays.add(relay);
    relay.attach(connector, "world").join();
    return relay;
  }

  static PublishingService origin() {
    return PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world")
        .delegateToRelays(p -> true).build();
  }

  static Attachment attach(SnapshotStore store, RemoteReference endpoint) {
    return PublishedClient.builder().store(store).expectedServerId(ORIGIN).build()
        .attach(endpoint, "world").join();
  }

  static SnapshotKey key(String id) {
    return new SnapshotKey(ORIGIN, "world", "anonymous", id);
  }

  @Test
  void objectsPublishedAndUnpublishedAfterTheRelayAttachedReachItsClients() {
    PublishingService origin = origin();
    origin.publishAll(PublishingTest.tiles(3));
    String originName = serveNew(origin.endpoint());
    Relay relay = relay(store(), () -> connectAsync(originName));
    SnapshotStore clientStore = store();
    Attachment client = attach(clientStore, connect(serveNew(relay.service().endpoint())));
    List<String> published = new CopyOnWriteArrayList<>();
    List<String> unpublished = new CopyOnWriteArrayList<>();
    client.onPublished(r -> published.add(r.identity()));
    client.onUnpublished(r -> unpublished.add(r.identity()));

    origin.publish(new Tile("tile-new", "sand", 7));
    origin.unpublish("tile-1");

    await().atMost(WAIT).until(() -> published.size() == 1 && unpublished.size() == 1);
    assertThat(published).containsExactly("tile-new");
    assertThat(unpublished).containsExactly("tile-1");
    assertThat(client.objects()).containsOnlyKeys("tile-0", "tile-2", "tile-new");
    assertThat(client.get("tile-new", TileCache.class).terrain()).isEqualTo("sand");
    assertThat(relay.service().get("tile-1")).as("unpublished downstream").isEmpty();
    clientStore.flush();
    assertThat(clientStore.get(key("tile-1"))).isEmpty();
    assertThat(clientStore.get(key("tile-new")).orElseThrow().version()).isEqualTo(7);

    // Its later changes travel down like any other's.
    ((Tile) origin.get("tile-new").orElseThrow()).change("rock", 8);
    await().atMost(WAIT)
        .until(() -> "rock".equals(client.get("tile-new", TileCache.class).terrain()));
  }

  @Test
  void deltasTravelDownAsDeltasAndLaterClientsOfTheRelayGetTheNewState() {
    PublishingService origin = origin();
    Tile tile = new Tile("tile-0", "grass", 1);
    Counter counter = new Counter("counter-0", "score");
    origin.publish(tile, counter);
    String originName = serveNew(origin.endpoint());
    Relay first = relay(store(), () -> connectAsync(originName));
    String firstName = serveNew(first.service().endpoint());
    Relay second = relay(store(), () -> connectAsync(firstName));
    String secondName = serveNew(second.service().endpoint());
    SnapshotStore clientStore = store();
    Attachment client = attach(clientStore, connect(secondName));
    TileCache t = client.get("tile-0", TileCache.class);
    RemoteCounter c = client.get("counter-0", RemoteCounter.class);
    int wholeStatesBefore = t.applied.get();

    tile.append("+flowers");
    counter.add(5);
    counter.add(2);

    await().atMost(WAIT).until(() -> t.version() == tile.version()
        && c.version() == counter.version());
    assertThat(t.terrain()).isEqualTo("grass+flowers");
    assertThat(t.applied.get()).as("applied as a delta, no whole state pushed down the chain")
        .isEqualTo(wholeStatesBefore);
    assertThat(c.value()).isEqualTo(new Counter.State("score", 7));
    clientStore.flush();
    assertThat(new String(clientStore.get(key("tile-0")).orElseThrow().state(),
        StandardCharsets.UTF_8)).isEqualTo("t:grass+flowers");

    // A client that attaches to either relay now gets the state after the deltas, at their version.
    for (String hop : List.of(firstName, secondName)) {
      Attachment later = attach(store(), connect(hop));
      assertThat(later.get("tile-0", TileCache.class).terrain()).isEqualTo("grass+flowers");
      assertThat(later.get("tile-0", TileCache.class).version()).isEqualTo(tile.version());
      assertThat(later.get("counter-0", RemoteCounter.class).value())
          .isEqualTo(new Counter.State("score", 7));
    }
    // And the client's own store is a hit at the new versions.
    Attachment again = attach(clientStore, connect(secondName));
    assertThat(again.hits()).isEqualTo(2);
  }

  @Test
  void aDeltaOfAClassThatCannotEncodeItsStateIsFetchedWholeAndNeverServedStale() {
    PublishingService origin = origin();
    Note note = new Note("note-0", "a");
    origin.publish(note);
    Map<Long, String> history = new ConcurrentHashMap<>();
    history.put(note.version(), note.text());
    String originName = serveNew(origin.endpoint());
    Relay relay = relay(store(), () -> connectAsync(originName));
    String relayName = serveNew(relay.service().endpoint());
    NoteCache n = attach(store(), connect(relayName)).get("note-0", NoteCache.class);
    List<String> seen = new CopyOnWriteArrayList<>();
    n.onUpdate(r -> seen.add(r.version() + "=" + ((NoteCache) r).text));

    for (String more : List.of("b", "c", "d")) {
      note.append(more);
      history.put(note.version(), note.text());
    }

    await().atMost(WAIT).until(() -> n.version() == note.version());
    assertThat(n.text).isEqualTo("abcd");
    for (String s : seen) {
      long v = Long.parseLong(s.substring(0, s.indexOf('=')));
      assertThat(s.substring(s.indexOf('=') + 1)).as("the state the client got at v%d", v)
          .isEqualTo(history.get(v));
    }
    NoteCache later = attach(store(), connect(relayName)).get("note-0", NoteCache.class);
    assertThat(later.text).isEqualTo("abcd");
    assertThat(later.version()).isEqualTo(note.version());
  }

  @Test
  void aRelayThatLostItsUpstreamKeepsServingAndReattachesWithOnlyWhatChanged() {
    PublishingService origin = origin();
    List<Tile> tiles = PublishingTest.tiles(20);
    origin.publishAll(tiles);
    String originName = serveNew(origin.endpoint());
    CompletableFuture<Void> gate = new CompletableFuture<>();
    AtomicInteger connects = new AtomicInteger();
    SnapshotStore relayStore = store();
    Relay relay = relay(relayStore, () -> connects.getAndIncrement() == 0
        ? connectAsync(originName)
        : gate.thenCompose(x -> connectAsync(originName)));
    String relayName = serveNew(relay.service().endpoint());
    Attachment client = attach(store(), connect(relayName));
    List<String> published = new CopyOnWriteArrayList<>();
    List<String> unpublished = new CopyOnWriteArrayList<>();
    client.onPublished(r -> published.add(r.identity()));
    client.onUnpublished(r -> unpublished.add(r.identity()));
    TileCache unchanged = client.get("tile-0", TileCache.class);
    int unchangedApplied = unchanged.applied.get();

    relay.upstream().endpoint().connection().close();
    await().atMost(WAIT).until(() -> connects.get() == 2);    // waiting at the gate
    tiles.get(3).change("ice");
    tiles.get(4).append("+moss");
    origin.unpublish("tile-5");
    origin.publish(new Tile("tile-new", "sand", 1));

    // Cut off, the relay serves what it holds, to its clients and to new ones, still proven.
    Attachment meanwhile = attach(store(), connect(relayName));
    assertThat(meanwhile.proven()).isTrue();
    assertThat(meanwhile.objects()).hasSize(20).containsKey("tile-5");
    assertThat(meanwhile.get("tile-3", TileCache.class).terrain()).isEqualTo("grass-3");

    gate.complete(null);
    await().atMost(WAIT).until(() -> relay.reattached() == 1);
    assertThat(relay.upstream().hits()).as("unchanged objects come from the relay's store")
        .isEqualTo(17);
    assertThat(relay.upstream().inlined()).isEqualTo(3);
    await().atMost(WAIT).until(() -> published.size() == 1 && unpublished.size() == 1
        && "grass-4+moss".equals(client.get("tile-4", TileCache.class).terrain())
        && "ice".equals(client.get("tile-3", TileCache.class).terrain()));
    assertThat(published).containsExactly("tile-new");
    assertThat(unpublished).containsExactly("tile-5");
    assertThat(client.objects()).hasSize(20).doesNotContainKey("tile-5");
    assertThat(client.get("tile-3", TileCache.class).version()).isEqualTo(tiles.get(3).version());
    assertThat(client.get("tile-4", TileCache.class).version()).isEqualTo(tiles.get(4).version());
    assertThat(unchanged.applied.get()).as("an unchanged object is not pushed again")
        .isEqualTo(unchangedApplied);
    assertThat(unchanged.version()).isEqualTo(1);

    // The relay keeps following the new upstream connection.
    tiles.get(0).change("lava");
    await().atMost(WAIT).until(() -> "lava".equals(unchanged.terrain()));
  }

  @Test
  void aReattachRenewsTheRelaysDelegation() {
    MutableClock originClock = new MutableClock();
    PublishingService origin = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").delegateToRelays(p -> true).delegationLifetime(Duration.ofHours(1))
        .clock(originClock).build();
    origin.publishAll(PublishingTest.tiles(2));
    String originName = serveNew(origin.endpoint());
    Relay relay = relay(store(), () -> connectAsync(originName));
    String relayName = serveNew(relay.service().endpoint());
    Clock clientClock = Clock.offset(Clock.systemUTC(), Duration.ofMinutes(90));
    Supplier<Throwable> clientAttach = () -> catchThrowable(() -> PublishedClient.builder()
        .store(store()).expectedServerId(ORIGIN).clock(clientClock).build()
        .attach(connect(relayName), "world").join());
    assertThat(clientAttach.get()).as("the first delegation expired by the client's clock")
        .hasMessageContaining("expired at");

    originClock.advance(Duration.ofHours(1));
    relay.upstream().endpoint().connection().close();
    await().atMost(WAIT).until(() -> relay.reattached() == 1);
    assertThat(clientAttach.get()).as("the re-attach got a new delegation").isNull();
  }

  @Test
  void closingARelayStopsItsReconnectLoop() {
    PublishingService origin = origin();
    origin.publishAll(PublishingTest.tiles(2));
    String originName = "pbj-relay-live-" + UUID.randomUUID();
    PbServer server = serve(originName, origin.endpoint());
    AtomicInteger connects = new AtomicInteger();
    Relay relay = relay(store(), () -> {
      connects.incrementAndGet();
      return connectAsync(originName);
    });
    String relayName = serveNew(relay.service().endpoint());

    server.close();    // the origin is gone for good: every attempt fails
    await().atMost(WAIT).until(() -> connects.get() >= 4);
    assertThat(attach(store(), connect(relayName)).objects())
        .as("a relay that lost its upstream keeps serving attaches").hasSize(2);

    relay.close();
    await().atMost(WAIT).until(() -> !relay.reconnectThreadAlive() && reconnectThreads() == 0);
    int after = connects.get();
    assertThat(relay.reconnectThreadAlive()).isFalse();
    assertThat(connects.get()).as("no attempt after the thread ended").isEqualTo(after);
  }

  static long reconnectThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().equals("pbj-relay-reconnect")).count();
  }

  @Test
  void backoffGrowsExponentiallyWithJitterAndIsCapped() {
    ReconnectPolicy policy = ReconnectPolicy.exponential(Duration.ofMillis(100),
        Duration.ofSeconds(1)).withJitter(0.5);
    Random none = new FixedRandom(0.0);
    Random most = new FixedRandom(0.999_999);
    assertThat(Relay.backoff(policy, 1, none)).isEqualTo(Duration.ofMillis(100));
    assertThat(Relay.backoff(policy, 2, none)).isEqualTo(Duration.ofMillis(200));
    assertThat(Relay.backoff(policy, 4, none)).isEqualTo(Duration.ofMillis(800));
    assertThat(Relay.backoff(policy, 5, none)).as("capped").isEqualTo(Duration.ofSeconds(1));
    assertThat(Relay.backoff(policy, 60, none)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Relay.backoff(policy, 4, most)).as("jitter shortens by up to half")
        .isGreaterThan(Duration.ofMillis(399)).isLessThan(Duration.ofMillis(401));
  }

  @Test
  void builderRefusesReconnectTwice() {
    assertThatThrownBy(() -> Relay.builder().reconnect(FAST).reconnect(FAST))
        .hasMessageContaining("reconnect");
  }

  /**
   * origin -> relay -> relay -> client while a thread publishes, unpublishes, pushes whole states
   * and deltas; the origin server is stopped and started again (same key, same service objects)
   * in the middle. After quiescence the client's view and store equal the origin's.
   */
  @Test
  void aRelayChainUnderALiveSimulationEndsEqualToTheOriginAcrossAnOriginRestart()
      throws Exception {
    PublishingService origin = origin();
    origin.publishAll(PublishingTest.tiles(60));
    for (int i = 0; i < 10; i++) {
      origin.publish(new Counter("counter-" + i, "c" + i));
    }
    String originName = "pbj-relay-live-" + UUID.randomUUID();
    AtomicReference<PbServer> originServer = new AtomicReference<>(serve(originName,
        origin.endpoint()));
    SnapshotStore firstStore = store();
    Relay first = relay(firstStore, () -> connectAsync(originName));
    String firstName = serveNew(first.service().endpoint());
    Relay second = relay(store(), () -> connectAsync(firstName));
    String secondName = serveNew(second.service().endpoint());
    SnapshotStore clientStore = store();
    Attachment client = attach(clientStore, connect(secondName));
    List<String> shownAfterUnpublish = new CopyOnWriteArrayList<>();

    CountDownLatch reachedKill = new CountDownLatch(1);
    CountDownLatch killed = new CountDownLatch(1);
    CountDownLatch reachedRestart = new CountDownLatch(1);
    AtomicLong ops = new AtomicLong();
    ExecutorService sim = Executors.newSingleThreadExecutor();
    Future<?> done;
    try {
      done = sim.submit(() -> {
        Random random = new Random(42);
        int fresh = 0;
        for (int i = 1; i <= 1200; i++) {
          fresh = step(origin, random, fresh);
          ops.incrementAndGet();
          if (i == 300) {
            reachedKill.countDown();
          } else if (i == 600) {
            waitFor(killed);
          } else if (i == 900) {
            reachedRestart.countDown();
          }
        }
        return null;
      });
      waitFor(reachedKill);
      originServer.get().close();    // ops 300..600 run meanwhile
      killed.countDown();
      waitFor(reachedRestart);          // ops 600..900 ran with the origin down
      assertThat(attach(store(), connect(firstName)).objects())
          .as("cut off, the first relay serves attaches").isNotEmpty();
      originServer.set(serve(originName, origin.endpoint()));
      done.get(60, TimeUnit.SECONDS);
    } finally {
      sim.shutdownNow();
    }
    await().atMost(WAIT).until(() -> first.reattached() >= 1);
    // Whether any object is still a store hit depends on how many of the 600 changes made while
    // the origin was down touched each object (usually all of them); the re-attach with only
    // what changed is RelayLiveTest.aRelayThatLostItsUpstreamKeepsServingAndReattaches...
    assertThat(first.upstream().extraCalls()).as("the re-attach sent the relay's inventory")
        .isZero();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Map<String, String> want = view(origin);
      Map<String, String> got = new HashMap<>();
      for (RemotePublished r : client.objects().values()) {
        if (r.isUnpublished()) {
          shownAfterUnpublish.add(r.identity());
        }
        got.put(r.identity(), describe(r));
      }
      assertThat(got).isEqualTo(want);
    });
    assertThat(shownAfterUnpublish).as("no unpublished object is shown").isEmpty();
    clientStore.flush();
    for (RemotePublished r : client.objects().values()) {
      assertThat(clientStore.get(key(r.identity())).orElseThrow().version())
          .as("the client's store holds %s at the origin's version", r.identity())
          .isEqualTo(origin.get(r.identity()).orElseThrow().version());
    }
  }

  /** One change of the simulated world; returns the next fresh identity number. */
  static int step(PublishingService origin, Random random, int fresh) {
    List<Publishable> live = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      origin.get("tile-" + i).ifPresent(live::add);
    }
    for (int i = 0; i < 10; i++) {
      origin.get("counter-" + i).ifPresent(live::add);
    }
    for (int i = Math.max(0, fresh - 20); i < fresh; i++) {
      origin.get("fresh-" + i).ifPresent(live::add);
    }
    int dice = random.nextInt(100);
    if (dice < 8 || live.isEmpty()) {
      origin.publish(new Tile("fresh-" + fresh, "new-" + fresh));
      return fresh + 1;
    }
    Publishable p = live.get(random.nextInt(live.size()));
    if (dice < 14) {
      origin.unpublish(p.identity());
      if (p instanceof Tile t && random.nextBoolean() && p.identity().startsWith("tile-")) {
        origin.publish(new Tile(t.identity(), "back-" + fresh));    // the identity comes back
      }
    } else if (p instanceof Counter c) {
      if (dice < 30) {
        c.rename("r" + dice);
      } else {
        c.add(dice);
      }
    } else if (p instanceof Tile t) {
      if (dice < 45) {
        t.change("c" + dice);
      } else {
        t.append(Integer.toString(dice % 10));
      }
    }
    return fresh;
  }

  /** The origin's world as identity -> "version:state". */
  static Map<String, String> view(PublishingService origin) {
    Map<String, String> view = new HashMap<>();
    for (String id : ids(origin)) {
      origin.get(id).ifPresent(p -> view.put(id, p.version() + ":" + (p instanceof Tile t
          ? t.terrain() : ((Counter) p).state().toString())));
    }
    return view;
  }

  static List<String> ids(PublishingService origin) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      ids.add("tile-" + i);
    }
    for (int i = 0; i < 10; i++) {
      ids.add("counter-" + i);
    }
    for (int i = 0; i < 1200; i++) {
      ids.add("fresh-" + i);
    }
    return ids;
  }

  static String describe(RemotePublished r) {
    return r.version() + ":" + (r instanceof TileCache t ? t.terrain()
        : ((RemoteCounter) r).value().toString());
  }

  static void waitFor(CountDownLatch latch) {
    try {
      if (!latch.await(60, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for the simulation");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** A clock that moves only when told. */
  static final class MutableClock extends Clock {
    private final AtomicLong millis = new AtomicLong(System.currentTimeMillis());

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  /** A Random whose nextDouble is fixed. */
  static final class FixedRandom extends Random {
    private final double value;

    FixedRandom(double value) {
      this.value = value;
    }

    @Override
    public double nextDouble() {
      return value;
    }
  }
}
