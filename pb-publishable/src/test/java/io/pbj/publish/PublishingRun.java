package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.PublishedClient.Mode;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * One publishing server and one client with a file store, driven step by step from the test
 * thread, next to a model of what the server published: each object's current value and the
 * history of (identity, version) to state. Every step checks that the client's store holds only
 * states the server had at the stored versions; every attach checks that the activated objects
 * are the server's current states and versions, that exactly the objects whose stored version is
 * the server's are hits (all of them when the server changed nothing since the store was last
 * known to be in sync), and that the attach left the store holding every current state.
 *
 * <p>Thread-safety: not thread-safe; one test thread drives it.
 */
final class PublishingRun implements AutoCloseable {
  static final String SERVER_ID = TestKeys.id("origin-1");
  static final String SERVICE = "world";
  /**
   * Where the service's counter starts: above every content version ({@link #contentVersion}), so
   * the two kinds never name the same version of an object.
   */
  static final long FIRST_SERVICE_VERSION = 1_000;

  private static final SnapshotPrefix PREFIX =
      SnapshotPrefix.of(SERVER_ID, SERVICE, PublishingService.ANONYMOUS);
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  /** How an object gets its versions. */
  enum Versioning {
    /** From the service's counter: {@code republish()}. */
    SERVICE,
    /** Derived from the state by the application, like a content hash: {@code republish(v)}. */
    CONTENT
  }

  /** How the server comes back. */
  enum Restart {
    /** A new PbServer over the same PublishingService and objects. */
    SAME_SERVICE,
    /** A new service and new objects with the same states and versions. */
    REBUILT,
    /**
     * A new service and new objects with the same states; objects whose versions came from the
     * service's counter get new versions from the new service's counter.
     */
    REBUILT_REASSIGNING
  }

  private final PbCleanup cleanup;
  private final Path storeFile;
  private final StoreBackend backend;
  private final Consumer<String> log;
  private final Coverage coverage;
  private final String address = "pbj-publish-prop-" + UUID.randomUUID();
  private final VersionHistory history = new VersionHistory();
  private final List<String> identities = new ArrayList<>();
  /** The model: each object's current value (its state is {@link #terrain} of it). */
  private final Map<String, Integer> values = new HashMap<>();
  private Map<String, Tile> tiles = new LinkedHashMap<>();
  private PublishingService service;
  private PbServer server;
  private long lastServiceVersion = FIRST_SERVICE_VERSION - 1;
  private SnapshotStore store;
  private PbClient client;
  private Attachment attachment;
  /** Whether the store is known to hold every object's current state and version. */
  private boolean storeInSync;

  PublishingRun(
      PbCleanup cleanup,
      Path storeFile,
      StoreBackend backend,
      List<Versioning> objects,
      Consumer<String> log,
      Coverage coverage) {
    this.cleanup = cleanup;
    this.storeFile = storeFile;
    this.backend = backend;
    this.log = log;
    this.coverage = coverage;
    service = newService(FIRST_SERVICE_VERSION);
    for (int i = 0; i < objects.size(); i++) {
      String id = "obj-" + i;
      identities.add(id);
      values.put(id, 0);
      Tile tile =
          objects.get(i) == Versioning.CONTENT
              ? new Tile(id, terrain(0), contentVersion(0))
              : new Tile(id, terrain(0));
      service.publish(tile);
      tiles.put(id, tile);
      recordCurrent(tile);
    }
    server = startServer();
    store = openStore();
    log.accept("published " + describeServer() + "; " + backend + " store");
  }

  static String terrain(int value) {
    return "v" + value;
  }

  /** The version the application derives from a value, as it would from a content hash. */
  static long contentVersion(int value) {
    return value + 1L;
  }

  // --- steps -----------------------------------------------------------------------------------

  /** Changes object {@code object} (modulo the world's size) to {@code value} and republishes. */
  void update(int object, int value, Versioning versioning, boolean waitForPush) {
    String id = identity(object);
    Tile tile = tiles.get(id);
    if (versioning == Versioning.CONTENT && tile.version() == contentVersion(value)) {
      log.accept("  " + id + " already has v" + tile.version() + ": nothing to republish");
      return;
    }
    if (versioning == Versioning.CONTENT) {
      tile.change(terrain(value), contentVersion(value));
    } else {
      tile.change(terrain(value));
    }
    values.put(id, value);
    recordCurrent(tile);
    log.accept("  server: " + id + " v" + tile.version() + " " + text(tile.publishedState(null))
        + (attachment == null ? ", no client attached" : ""));
    if (attachment == null) {
      coverage.collect("updates", "no client attached");
      storeInSync = false;
      return;
    }
    if (!waitForPush) {
      coverage.collect("updates", "client attached, push not awaited");
      storeInSync = false;
      checkStore();    // with the push possibly in flight
      return;
    }
    coverage.collect("updates", "client attached, push awaited");
    long version = tile.version();
    byte[] state = tile.publishedState(null);
    TileCache cache = attachment.get(id, TileCache.class);
    waitUntil(id + " v" + version + " reaches the client object")
        .until(() -> cache.version() == version && Arrays.equals(stateOf(cache), state));
    SnapshotKey key = key(id);
    waitUntil(id + " v" + version + " reaches the client store")
        .until(() -> store.get(key).map(s -> s.version() == version).orElse(false));
    checkStore();
  }

  /** Closes the client's connection, if it has one, and waits until its threads are gone. */
  void disconnect() {
    if (client == null) {
      return;
    }
    client.shutdown();
    try {
      assertThat(client.awaitTermination(PATIENCE)).as("client terminated").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while the client shut down", e);
    }
    client = null;
    attachment = null;
  }

  /** Disconnects if connected, then attaches on a new connection in {@code mode} and checks it. */
  Attachment reconnect(Mode mode) throws Exception {
    return attach(mode, null, 0);
  }

  /**
   * Like {@link #reconnect}, but the server changes object {@code object} to {@code value} (with
   * {@code republish()}) while the client activates, after the attach answer: at a store read of
   * the activation, or right after the attach if it reads nothing. The push must not be lost,
   * whether it arrives before the object is activated (it is held) or after (applied at once).
   *
   * <p>The client applies inlined states first, then reads the store for the objects that came
   * without state. When the changed object's state was inlined, the change comes at a read of a
   * later object, when its state is applied but its batch not yet stored, and waits until the
   * push has reached the client's connection: it is then held (or, if the activation ended
   * meanwhile, applied at once) and stored after the older state either way. Otherwise it comes at
   * the first read, and the push is held until the object is activated.
   */
  void reconnectWhileServerChanges(Mode mode, int object, int value) throws Exception {
    attach(mode, identity(object), value);
  }

  /**
   * Attaches on a new connection and checks the attachment; if {@code changing} is not null, the
   * server changes that object to {@code value} during the activation.
   */
  private Attachment attach(Mode mode, String changing, int value) throws Exception {
    disconnect();
    Map<String, Long> held = storedVersions();
    List<String> current = new ArrayList<>();
    for (String id : identities) {
      if (Objects.equals(held.get(id), tiles.get(id).version())) {
        current.add(id);
      }
    }
    boolean expectAllHits = storeInSync;
    client = cleanup.register(
        PbClient.builder().inProcess(address).registry(PublishingTest.REGISTRY).build());
    RemoteReference endpoint = client.rootObject().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    ChangeDuringActivation change = changing == null ? null : new ChangeDuringActivation(
        tiles.get(changing), value, mode == Mode.INVENTORY && !current.contains(changing));
    PublishedClient publishing = PublishedClient.builder()
        .store(change == null ? store : change.around(store))
        .mode(mode)
        .expectedServerId(SERVER_ID)
        .build();
    Attachment a = publishing.attach(endpoint, SERVICE)
        .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    attachment = a;
    log.accept("  " + a + "; store held " + held);
    if (change != null) {
      coverage.collect("changes during the activation", change.finish());
      values.put(changing, value);
      recordCurrent(change.tile);
      log.accept("  server, during the activation: " + changing + " v" + change.tile.version()
          + " " + text(change.tile.publishedState(null)));
    }

    assertThat(a.objects().keySet()).containsExactlyInAnyOrderElementsOf(identities);
    for (String id : identities) {
      TileCache c = a.get(id, TileCache.class);
      Tile t = tiles.get(id);
      assertThat(c.isActivated()).as("%s activated", id).isTrue();
      if (id.equals(changing)) {
        continue;    // its push may still be on the way; waited for below
      }
      assertThat(c.version()).as("%s version after a %s attach", id, mode).isEqualTo(t.version());
      assertThat(text(stateOf(c))).as("%s state after a %s attach", id, mode)
          .isEqualTo(text(t.publishedState(null)));
      assertThat(c.fromStore())
          .as("%s from the store (stored v%s, server v%s)", id, held.get(id), t.version())
          .isEqualTo(current.contains(id));
    }
    int stale = identities.size() - current.size();
    coverage.collect(changing == null ? "attaches" : "attaches while the server changes",
        mode, stale == 0 ? "all hits" : current.isEmpty() ? "no hits" : "some hits");
    // The store was compared with the versions of the attach answer, taken before any change.
    assertThat(a.hits()).as("hits: the objects whose stored version is the server's, %s", current)
        .isEqualTo(current.size());
    if (expectAllHits) {
      assertThat(a.hits()).as("an attach after no server-side change is all hits")
          .isEqualTo(identities.size());
    }
    if (mode == Mode.INVENTORY) {
      assertThat(a.inlined()).as("stale states inlined").isEqualTo(stale);
      assertThat(a.fetched()).as("fetched in inventory mode").isZero();
      assertThat(a.extraCalls()).as("extra calls in inventory mode").isZero();
    } else {
      assertThat(a.inlined()).as("inlined in versions mode").isZero();
      assertThat(a.fetched()).as("stale states fetched").isEqualTo(stale);
      assertThat(a.extraCalls()).as("extra calls in versions mode").isEqualTo(stale > 0 ? 1 : 0);
    }
    if (changing == null) {
      assertStoreHoldsCurrentStates("after a " + mode + " attach", null);
      storeInSync = true;
      return a;
    }
    Tile tile = tiles.get(changing);
    long version = tile.version();
    byte[] state = tile.publishedState(null);
    TileCache cache = a.get(changing, TileCache.class);
    waitUntil(changing + " v" + version + ", changed during the activation, reaches the client"
            + " and its store")
        .until(() -> cache.version() == version && Arrays.equals(stateOf(cache), state)
            && store.get(key(changing)).map(x -> x.version() == version).orElse(false));
    // The push must not be overwritten by the older state the attach activated with
    // (PublishingPushDuringActivationTest).
    assertStoreHoldsCurrentStates("after a " + mode + " attach", null);
    storeInSync = true;
    return a;
  }

  /** The server-side change of {@link #reconnectWhileServerChanges}, made from a store read. */
  private final class ChangeDuringActivation {
    final Tile tile;
    final int value;
    /** Whether the object's state comes in the attach answer, so later reads find it activated. */
    final boolean inlined;
    final AtomicBoolean made = new AtomicBoolean();
    volatile boolean pushArrivedBeforeActivationEnded;

    ChangeDuringActivation(Tile tile, int value, boolean inlined) {
      this.tile = tile;
      this.value = value;
      this.inlined = inlined;
    }

    SnapshotStore around(SnapshotStore s) {
      return new HookedStore(s, null, () -> {}) {
        @Override
        public Optional<Snapshot> get(SnapshotKey key) {
          if (!inlined || key.identity().compareTo(tile.identity()) > 0) {
            makeDuringRead();
          }
          return super.get(key);
        }
      };
    }

    private void makeDuringRead() {
      if (!made.compareAndSet(false, true)) {
        return;
      }
      PbConnection connection = client.connection().getNow(null);
      long received = connection == null ? 0 : connection.stats().messagesReceived();
      tile.change(terrain(value));
      if (inlined && connection != null) {
        // The object's state came in the answer and is applied, but it is marked activated only
        // once its batch is stored: the push reaches the client during the activation and is
        // held until then, and must not be lost or overwritten.
        waitUntil(tile.identity() + " v" + tile.version() + ", pushed during the activation,"
                + " reaches the client")
            .until(() -> connection.stats().messagesReceived() > received);
        pushArrivedBeforeActivationEnded = true;
      }
    }

    /** Makes the change now if no store read made it; says how it went. */
    String finish() {
      if (made.compareAndSet(false, true)) {
        tile.change(terrain(value));
        return "after the attach: the activation read nothing";
      }
      return pushArrivedBeforeActivationEnded
          ? "push arrived before the activation ended"
          : "push raced the activation (held, or applied at once)";
    }
  }

  /** Disconnects if connected, closes the store and opens its file again. */
  void reopenStore() {
    disconnect();
    store.close();
    store = openStore();
    checkStore();
    if (storeInSync) {
      assertStoreHoldsCurrentStates("after the store was closed and opened again", null);
    }
  }

  /** Stops the server (the client loses its connection and is released) and starts it again. */
  void restartServer(Restart restart) {
    server.shutdown();
    try {
      assertThat(server.awaitTermination(PATIENCE)).as("server terminated").isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while the server shut down", e);
    }
    disconnect();
    if (restart != Restart.SAME_SERVICE) {
      rebuildService(restart == Restart.REBUILT_REASSIGNING);
    }
    server = startServer();
    log.accept("  restarted: " + describeServer());
  }

  /** Where the client's connection and the server are released; the store is closed. */
  @Override
  public void close() {
    disconnect();
    server.shutdown();
    store.close();
  }

  // --- checks ----------------------------------------------------------------------------------

  /** Every stored entry is a state the server had at the stored version. */
  void checkStore() {
    for (SnapshotEntry e : store.list(SnapshotPrefix.all())) {
      SnapshotKey key = e.key();
      assertThat(key.prefix()).as("prefix of stored key %s", key).isEqualTo(PREFIX);
      Optional<Snapshot> read = store.get(key);
      assertThat(read).as("%s is listed but reads as a miss", key).isPresent();
      Snapshot s = read.get();
      assertThat(s.formatVersion()).as("format of stored %s", key.identity()).isEqualTo(1);
      Optional<byte[]> had = history.stateAt(key.identity(), s.version());
      assertThat(had)
          .as("stored %s v%d (%s): the server never published that version", key.identity(),
              s.version(), text(s.state()))
          .isPresent();
      assertThat(text(s.state()))
          .as("stored state of %s v%d is what the server had at that version", key.identity(),
              s.version())
          .isEqualTo(text(had.get()));
    }
  }

  /** The store holds every object's current state, except perhaps {@code except}'s. */
  private void assertStoreHoldsCurrentStates(String when, String except) {
    checkStore();
    for (String id : identities) {
      if (id.equals(except)) {
        continue;
      }
      Tile t = tiles.get(id);
      Optional<Snapshot> s = store.get(key(id));
      assertThat(s).as("%s stored %s", id, when).isPresent();
      assertThat(s.get().version()).as("stored version of %s %s", id, when).isEqualTo(t.version());
      assertThat(text(s.get().state())).as("stored state of %s %s", id, when)
          .isEqualTo(text(t.publishedState(null)));
    }
  }

  /** The stored version of each identity, after checking every entry against the history. */
  private Map<String, Long> storedVersions() {
    checkStore();
    Map<String, Long> held = new LinkedHashMap<>();
    for (SnapshotEntry e : store.list(PREFIX)) {
      held.put(e.key().identity(), e.version());
    }
    return held;
  }

  // --- helpers ---------------------------------------------------------------------------------

  private PublishingService newService(long firstVersion) {
    return PublishingService.builder()
        .serverKey(TestKeys.key("origin-1")).service(SERVICE).firstVersion(firstVersion).build();
  }

  /**
   * A new service over new objects with the current states; the counter goes on from where the
   * old one stopped, as a server that persists its counter does.
   */
  private void rebuildService(boolean reassignServiceVersions) {
    service = newService(lastServiceVersion + 1);
    Map<String, Tile> rebuilt = new LinkedHashMap<>();
    for (String id : identities) {
      long version = tiles.get(id).version();
      String terrain = terrain(values.get(id));
      boolean reassign = reassignServiceVersions && version >= FIRST_SERVICE_VERSION;
      Tile tile = reassign ? new Tile(id, terrain) : new Tile(id, terrain, version);
      service.publish(tile);
      rebuilt.put(id, tile);
      recordCurrent(tile);
      if (reassign) {
        storeInSync = false;
      }
    }
    tiles = rebuilt;
  }

  private PbServer startServer() {
    return cleanup.register(PbServer.builder().inProcess(address).registry(PublishingTest.REGISTRY)
        .rootFactory(service::endpoint).build().start());
  }

  private SnapshotStore openStore() {
    return SnapshotStore.builder().backend(backend).path(storeFile).build();
  }

  private void recordCurrent(Tile tile) {
    history.record(tile.identity(), tile.version(), tile.publishedState(null));
    if (tile.version() >= FIRST_SERVICE_VERSION) {
      lastServiceVersion = Math.max(lastServiceVersion, tile.version());
    }
  }

  private String describeServer() {
    StringBuilder b = new StringBuilder();
    for (Tile t : tiles.values()) {
      b.append(b.length() == 0 ? "" : ", ").append(t.identity()).append(" v").append(t.version())
          .append(' ').append(text(t.publishedState(null)));
    }
    return b.toString();
  }

  private String identity(int object) {
    return identities.get(object % identities.size());
  }

  private static SnapshotKey key(String id) {
    return new SnapshotKey(SERVER_ID, SERVICE, PublishingService.ANONYMOUS, id);
  }

  /** The state a client object holds, in the bytes the server publishes (see {@link Tile}). */
  private static byte[] stateOf(TileCache cache) {
    return ("t:" + cache.terrain()).getBytes(StandardCharsets.UTF_8);
  }

  private static String text(byte[] state) {
    return VersionHistory.text(state);
  }

  private static ConditionFactory waitUntil(String what) {
    return Awaitility.await(what)
        .atMost(PATIENCE)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .pollInSameThread();
  }
}
