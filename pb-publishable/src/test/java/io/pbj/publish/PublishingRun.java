package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbClient;
import io.pbj.PbCodec;
import io.pbj.PbConnection;
import io.pbj.PbRegistry;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One publishing server and one client with a file store, driven step by step from the test
 * thread, next to a model of what the server published: the objects published now (byte-state
 * tiles and typed counters), the history of (identity, version) to state, and what the client's
 * live attachment covers (the whole service minus what it dropped, or a subset it grows and
 * shrinks), as the server keeps it. Every step checks that the client's store holds only states
 * the server had at the stored versions, and that every state that reached user code (activation,
 * update and publish listeners: {@link ShownStates}) is one the server had at that version and
 * never one of an object already unpublished. Every attach checks that the activated objects are
 * the server's current states and versions, that exactly the objects whose stored version is the
 * server's are hits, that a whole-service attach removed the stored objects the server no longer
 * publishes, and that the attach left the store holding every current state. {@link #settle}
 * waits until the live client reached the server's versions and then requires its view and
 * store to equal the server's.
 *
 * <p>Thread-safety: not thread-safe; one test thread drives it.
 */
final class PublishingRun implements AutoCloseable {
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register(PropertyCounter.State.class)
      .registerCache(PropertyTile.class, PropertyTileCache.class)
      .registerCache(PropertyCounter.class, RemotePropertyCounter.class)
      .build();
  static final PbCodec CODEC = PbCodec.of(REGISTRY);
  static final String SERVER_ID = TestKeys.id("origin-1");
  static final String SERVICE = "world";
  /** The identities objects are published under: obj-0 to obj-9, each possibly again. */
  static final int IDENTITIES = 10;
  /**
   * Where the service's counter starts: above every content version ({@link #contentVersion}), so
   * the two kinds never name the same version of an object.
   */
  static final long FIRST_SERVICE_VERSION = 1_000;

  private static final SnapshotPrefix PREFIX =
      SnapshotPrefix.of(SERVER_ID, SERVICE, PublishingService.ANONYMOUS);
  private static final Duration PATIENCE = Duration.ofSeconds(10);
  private static final int TILE_FORMAT = 1;
  private static final int COUNTER_FORMAT = CODEC.formatOf(PropertyCounter.State.class);

  /** How an object gets its versions. */
  enum Versioning {
    /** From the service's counter: {@code republish()}. */
    SERVICE,
    /** Derived from the state by the application, like a content hash: {@code republish(v)}. */
    CONTENT
  }

  /** What an object's state is. */
  enum Kind {
    /** Bytes the application encodes ({@link PropertyTile}). */
    TILE,
    /** A registered record ({@link PropertyCounter}, a {@link RemoteValue} on the client). */
    COUNTER
  }

  /** One object of the world a run starts with. */
  record Spec(Kind kind, Versioning versioning) {}

  /** What an attach covers. */
  enum Scope {
    /** The whole service. */
    WHOLE,
    /** A subset of the objects published now. */
    SUBSET
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
  private final ShownStates shown = new ShownStates();
  /** Content versions: each state text ever seen gets its own number, as a hash would. */
  private final Map<String, Long> contentVersions = new HashMap<>();
  /** The model: the objects the server publishes now, by identity. */
  private Map<String, Publishable> published = new TreeMap<>();
  private final Set<String> everPublished = new HashSet<>();
  private PublishingService service;
  private PbServer server;
  private long lastServiceVersion = FIRST_SERVICE_VERSION - 1;
  private SnapshotStore store;
  private PbClient client;
  private Attachment attachment;
  /** The live attachment's subset, as the server keeps it; null for the whole service. */
  private Set<String> interest;
  /** What the live whole-service attachment dropped, as the server keeps it. */
  private final Set<String> excluded = new HashSet<>();
  /** Identities whose store entry must be gone (unpublished, and the client was told). */
  private final Set<String> mustNotStore = new TreeSet<>();
  /**
   * Identities unpublished while the live client covered them, the announcement not awaited: the
   * client must have removed them once it settles; a disconnect before may lose the announcement.
   */
  private final Set<String> announcedGone = new TreeSet<>();

  PublishingRun(
      PbCleanup cleanup,
      Path storeFile,
      StoreBackend backend,
      List<Spec> objects,
      Consumer<String> log,
      Coverage coverage) {
    this.cleanup = cleanup;
    this.storeFile = storeFile;
    this.backend = backend;
    this.log = log;
    this.coverage = coverage;
    assertThat(COUNTER_FORMAT).as("a record's format is not the tiles'").isNotEqualTo(TILE_FORMAT);
    service = newService(FIRST_SERVICE_VERSION);
    for (int i = 0; i < objects.size() && i < IDENTITIES; i++) {
      Publishable p = newObject("obj-" + i, objects.get(i).kind(), objects.get(i).versioning(), 0);
      service.publish(p);
      published.put(p.identity(), p);
      everPublished.add(p.identity());
      recordCurrent(p);
    }
    server = startServer();
    store = openStore();
    ShownStates.current = shown;
    log.accept("published " + describeServer() + "; " + backend + " store");
  }

  static String terrain(int value) {
    return "v" + value;
  }

  static String name(int value) {
    return "n" + value;
  }

  // --- steps -----------------------------------------------------------------------------------

  /**
   * Changes object {@code object} (modulo the number published) to {@code value} and republishes
   * the whole state.
   */
  void update(int object, int value, Versioning versioning, boolean waitForPush) {
    String id = identityAt(object);
    if (id == null) {
      log.accept("  nothing is published: nothing to update");
      return;
    }
    Publishable p = published.get(id);
    String next = p instanceof PropertyTile
        ? PropertyTile.textOf(terrain(value))
        : PropertyCounter.textOf(
            new PropertyCounter.State(name(value), ((PropertyCounter) p).state().count()));
    if (versioning == Versioning.CONTENT && p.version() == contentVersion(next)) {
      log.accept("  " + id + " already has v" + p.version() + ": nothing to republish");
      return;
    }
    if (p instanceof PropertyTile t) {
      t.set(terrain(value), versionsOf(versioning));
    } else {
      ((PropertyCounter) p).set(name(value), versionsOf(versioning));
    }
    changed(p, "updates", waitForPush);
  }

  /**
   * Changes object {@code object} (modulo the number published) by a delta: a tile appends
   * {@code "+value"}, a counter adds {@code value + 1}.
   */
  void delta(int object, int value, Versioning versioning, boolean waitForPush) {
    String id = identityAt(object);
    if (id == null) {
      log.accept("  nothing is published: no delta");
      return;
    }
    Publishable p = published.get(id);
    if (p instanceof PropertyTile t) {
      t.append("+" + value, versionsOf(versioning));
    } else {
      ((PropertyCounter) p).add(value + 1, versionsOf(versioning));
    }
    coverage.collect("deltas of", p instanceof PropertyTile ? "bytes" : "a record");
    changed(p, "deltas", waitForPush);
  }

  private void changed(Publishable p, String label, boolean waitForPush) {
    String id = p.identity();
    recordCurrent(p);
    log.accept("  server: " + id + " v" + p.version() + " " + textOf(p)
        + (attachment == null ? ", no client attached" : wants(id) ? "" : ", not in the view"));
    if (attachment == null) {
      coverage.collect(label, "no client attached");
      return;
    }
    if (!wants(id)) {
      coverage.collect(label, "client attached, not in its view");
      checkStore();
      return;
    }
    if (!waitForPush) {
      coverage.collect(label, "client attached, push not awaited");
      checkStore();    // with the push possibly in flight
      return;
    }
    coverage.collect(label, "client attached, push awaited");
    awaitCurrent(id, "the push");
    checkStore();
  }

  /**
   * Publishes a new object of {@code kind} with {@code value} under identity {@code obj-<slot>},
   * {@code slot} being {@code object} modulo {@value #IDENTITIES} or, if that one is published,
   * the next free one.
   */
  void publish(int object, Kind kind, Versioning versioning, int value, boolean waitForIt) {
    String id = null;
    for (int i = 0; i < IDENTITIES && id == null; i++) {
      String candidate = "obj-" + (object + i) % IDENTITIES;
      if (!published.containsKey(candidate)) {
        id = candidate;
      }
    }
    if (id == null) {
      log.accept("  every identity is published: nothing to publish");
      return;
    }
    Publishable p = newObject(id, kind, versioning, value);
    service.publish(p);
    published.put(id, p);
    coverage.collect("publishes", kind, everPublished.add(id) ? "new identity" : "identity again");
    recordCurrent(p);
    log.accept("  server published " + id + " v" + p.version() + " " + textOf(p)
        + (attachment == null ? ", no client attached" : wants(id) ? "" : ", not in the view"));
    if (attachment == null) {
      coverage.collect("publishes", "no client attached");
      return;
    }
    if (!wants(id)) {
      coverage.collect("publishes", "client attached, not in its view");
      return;
    }
    mustNotStore.remove(id);
    announcedGone.remove(id);
    if (!waitForIt) {
      coverage.collect("publishes", "client attached, announcement not awaited");
      checkStore();
      return;
    }
    coverage.collect("publishes", "client attached, announcement awaited");
    awaitCurrent(id, "the announcement");
    checkStore();
  }

  /** Unpublishes object {@code object} (modulo the number published). */
  void unpublish(int object, boolean waitForIt) {
    String id = identityAt(object);
    if (id == null) {
      log.accept("  nothing is published: nothing to unpublish");
      return;
    }
    Optional<Publishable> gone = service.unpublish(id);
    assertThat(gone).as("%s unpublished", id).containsSame(published.remove(id));
    log.accept("  server unpublished " + id
        + (attachment == null ? ", no client attached" : wants(id) ? "" : ", not in the view"));
    if (attachment == null) {
      coverage.collect("unpublishes", "no client attached");
      return;
    }
    if (!wants(id)) {
      coverage.collect("unpublishes", "client attached, not in its view");
      checkStore();
      return;
    }
    // Announced: the server forgets the identity's interest, the client its store entry.
    if (interest != null) {
      interest.remove(id);
    }
    if (!waitForIt) {
      announcedGone.add(id);
      coverage.collect("unpublishes", "client attached, announcement not awaited");
      checkStore();
      return;
    }
    coverage.collect("unpublishes", "client attached, announcement awaited");
    mustNotStore.add(id);
    Attachment a = attachment;
    waitUntil("the unpublishing of " + id + " reaches the client and its store")
        .until(() -> !a.objects().containsKey(id) && store.get(key(id)).isEmpty());
    checkStore();
  }

  /**
   * Adds to or drops from the live attachment the identities {@code obj-i} for each bit {@code i}
   * of {@code mask}, published or not.
   */
  void changeInterest(boolean add, int mask) throws Exception {
    Set<String> ids = new TreeSet<>();
    for (int i = 0; i < IDENTITIES; i++) {
      if ((mask & (1 << i)) != 0) {
        ids.add("obj-" + i);
      }
    }
    if (attachment == null) {
      log.accept("  no client attached: no interest to change");
      coverage.collect("interest changes", add ? "add" : "drop", "no client attached");
      return;
    }
    Set<String> publishedOnes = new TreeSet<>(ids);
    publishedOnes.retainAll(published.keySet());
    coverage.collect("interest changes", add ? "add" : "drop",
        interest == null ? Scope.WHOLE : Scope.SUBSET,
        publishedOnes.equals(ids) ? "published identities" : "some unpublished identities");
    if (add) {
      Map<String, RemotePublished> added =
          attachment.add(ids).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      log.accept("  added " + added.keySet());
      if (interest == null) {
        excluded.removeAll(ids);
      } else {
        interest.addAll(publishedOnes);    // the server keeps published identities only
      }
      mustNotStore.removeAll(publishedOnes);
      announcedGone.removeAll(publishedOnes);
      assertThat(publishedOnes).as("added objects are published").containsAll(added.keySet());
      for (RemotePublished r : added.values()) {
        assertThat(r.isActivated()).as("%s added, activated", r.identity()).isTrue();
      }
    } else {
      attachment.drop(ids).get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      if (interest == null) {
        excluded.addAll(publishedOnes);
      } else {
        interest.removeAll(ids);
      }
      assertThat(attachment.objects().keySet()).as("the view after dropping %s", ids)
          .doesNotContainAnyElementsOf(ids);
    }
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
    announcedGone.clear();    // announcements not yet processed are lost with the connection
    interest = null;
    excluded.clear();
  }

  /**
   * Disconnects if connected, then attaches on a new connection in {@code mode} and checks it:
   * to the whole service, or to the published objects picked by the bits of {@code mask}.
   */
  Attachment reconnect(Mode mode, Scope scope, int mask) throws Exception {
    return attach(mode, scope == Scope.WHOLE ? null : pick(mask), null, 0);
  }

  /** Like {@link #reconnect(Mode, Scope, int)} to the whole service. */
  Attachment reconnect(Mode mode) throws Exception {
    return attach(mode, null, null, 0);
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
    String id = identityAt(object);
    attach(mode, null, id, value);
  }

  /**
   * Attaches on a new connection and checks the attachment: to {@code only}, or the whole service
   * if null; if {@code changing} is not null, the server changes that object to {@code value}
   * during the activation.
   */
  private Attachment attach(Mode mode, List<String> only, String changing, int value)
      throws Exception {
    disconnect();
    Map<String, Long> held = storedVersions();
    List<String> scope = only == null ? new ArrayList<>(published.keySet()) : only;
    List<String> current = new ArrayList<>();
    for (String id : scope) {
      if (Objects.equals(held.get(id), published.get(id).version())) {
        current.add(id);
      }
    }
    Set<String> gone = new TreeSet<>(held.keySet());
    gone.removeAll(published.keySet());
    client = cleanup.register(
        PbClient.builder().inProcess(address).registry(REGISTRY).build());
    RemoteReference endpoint = client.rootObject().get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    ChangeDuringActivation change = changing == null ? null : new ChangeDuringActivation(
        published.get(changing), value, mode == Mode.INVENTORY && !current.contains(changing));
    PublishedClient publishing = PublishedClient.builder()
        .store(change == null ? store : change.around(store))
        .mode(mode)
        .expectedServerId(SERVER_ID)
        .build();
    Attachment a = publishing.attach(endpoint, SERVICE, only)
        .get(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
    attachment = a;
    interest = only == null ? null : new HashSet<>(only);
    excluded.clear();
    a.onPublished(shown::announced);
    log.accept("  " + a + (only == null ? "" : " of " + only) + "; store held " + held);
    if (change != null) {
      coverage.collect("changes during the activation", change.finish());
      recordCurrent(change.object);
      log.accept("  server, during the activation: " + changing + " v" + change.object.version()
          + " " + textOf(change.object));
    }

    assertThat(a.objects().keySet()).as("the objects of a %s attach", mode)
        .containsExactlyInAnyOrderElementsOf(scope);
    for (String id : scope) {
      RemotePublished c = a.objects().get(id);
      Publishable p = published.get(id);
      assertThat(c.isActivated()).as("%s activated", id).isTrue();
      if (id.equals(changing)) {
        continue;    // its push may still be on the way; waited for below
      }
      assertThat(c.version()).as("%s version after a %s attach", id, mode).isEqualTo(p.version());
      assertThat(((PropertyObject) c).text()).as("%s state after a %s attach", id, mode)
          .isEqualTo(textOf(p));
      assertThat(c.fromStore())
          .as("%s from the store (stored v%s, server v%s)", id, held.get(id), p.version())
          .isEqualTo(current.contains(id));
    }
    int stale = scope.size() - current.size();
    coverage.collect(changing == null ? "attaches" : "attaches while the server changes",
        mode, stale == 0 ? "all hits" : current.isEmpty() ? "no hits" : "some hits",
        only == null ? Scope.WHOLE : Scope.SUBSET);
    // The store was compared with the versions of the attach answer, taken before any change.
    assertThat(a.hits()).as("hits: the objects whose stored version is the server's, %s", current)
        .isEqualTo(current.size());
    if (mode == Mode.INVENTORY) {
      assertThat(a.inlined()).as("stale states inlined").isEqualTo(stale);
      assertThat(a.fetched()).as("fetched in inventory mode").isZero();
      assertThat(a.extraCalls()).as("extra calls in inventory mode").isZero();
    } else {
      assertThat(a.inlined()).as("inlined in versions mode").isZero();
      assertThat(a.fetched()).as("stale states fetched").isEqualTo(stale);
      assertThat(a.extraCalls()).as("extra calls in versions mode").isEqualTo(stale > 0 ? 1 : 0);
    }
    if (only == null) {
      assertThat(a.removed()).as("stored objects the server no longer publishes, %s, removed",
          gone).isEqualTo(gone.size());
      if (!gone.isEmpty()) {
        coverage.collect("whole attaches that removed unpublished objects", mode);
      }
      mustNotStore.clear();    // the store holds exactly the objects published now
      for (int i = 0; i < IDENTITIES; i++) {
        if (!published.containsKey("obj-" + i)) {
          mustNotStore.add("obj-" + i);
        }
      }
    } else {
      mustNotStore.removeAll(scope);
      announcedGone.removeAll(scope);
    }
    if (change != null) {
      awaitCurrent(changing, "the change during the activation");
    }
    assertStoreHoldsCurrentStates("after a " + mode + " attach", scope);
    return a;
  }

  /** The server-side change of {@link #reconnectWhileServerChanges}, made from a store read. */
  private final class ChangeDuringActivation {
    final Publishable object;
    final int value;
    /** Whether the object's state comes in the attach answer, so later reads find it activated. */
    final boolean inlined;
    final AtomicBoolean made = new AtomicBoolean();
    volatile boolean pushArrivedBeforeActivationEnded;

    ChangeDuringActivation(Publishable object, int value, boolean inlined) {
      this.object = object;
      this.value = value;
      this.inlined = inlined;
    }

    SnapshotStore around(SnapshotStore s) {
      return new HookedStore(s, null, () -> {}) {
        @Override
        public Optional<Snapshot> get(SnapshotKey key) {
          if (!inlined || key.identity().compareTo(object.identity()) > 0) {
            makeDuringRead();
          }
          return super.get(key);
        }
      };
    }

    private void change() {
      if (object instanceof PropertyTile t) {
        t.set(terrain(value), null);
      } else {
        ((PropertyCounter) object).set(name(value), null);
      }
    }

    private void makeDuringRead() {
      if (!made.compareAndSet(false, true)) {
        return;
      }
      PbConnection connection = client.connection().getNow(null);
      long received = connection == null ? 0 : connection.stats().messagesReceived();
      change();
      if (inlined && connection != null) {
        // The object's state came in the answer and is applied, but it is marked activated only
        // once its batch is stored: the push reaches the client during the activation and is
        // held until then, and must not be lost or overwritten.
        waitUntil(object.identity() + " v" + object.version() + ", pushed during the"
                + " activation, reaches the client")
            .until(() -> connection.stats().messagesReceived() > received);
        pushArrivedBeforeActivationEnded = true;
      }
    }

    /** Makes the change now if no store read made it; says how it went. */
    String finish() {
      if (made.compareAndSet(false, true)) {
        change();
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
    checkStoreHoldsNothingUnpublished("after the store was closed and opened again");
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

  /**
   * Once the server changes nothing more: waits until the live client reached every object's
   * current version, then requires that its view is exactly the objects it covers with the
   * server's versions and states, that its store holds those states at those versions and nothing
   * of the objects unpublished while it was told, and that every state shown was real.
   */
  void settle() {
    if (attachment == null) {
      checkStore();
      checkShown();
      return;
    }
    Attachment a = attachment;
    Set<String> expected = expectedView();
    mustNotStore.addAll(announcedGone);
    announcedGone.clear();
    try {
      waitUntil("the client reaches the server's objects and versions")
          .until(() -> differences(a, expected).isEmpty());
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("after quiescence, the client's view and store differ from the"
          + " server's: " + differences(a, expected), e);
    }
    coverage.collect("settled with a client attached", interest == null ? Scope.WHOLE
        : Scope.SUBSET, expected.isEmpty() ? "empty view" : "objects in view");
    assertStoreHoldsCurrentStates("once settled", expected);
    checkStoreHoldsNothingUnpublished("once settled");
    checkShown();
  }

  /** What differs between the live client and the server now; empty when nothing does. */
  private List<String> differences(Attachment a, Set<String> expected) {
    List<String> diffs = new ArrayList<>();
    Map<String, RemotePublished> view = a.objects();
    if (!view.keySet().equals(expected)) {
      diffs.add("view " + new TreeSet<>(view.keySet()) + ", expected " + expected);
    }
    for (String id : expected) {
      RemotePublished r = view.get(id);
      Publishable p = published.get(id);
      if (r == null) {
        continue;
      }
      String text = ((PropertyObject) r).text();
      if (r.version() != p.version() || !textOf(p).equals(text)) {
        diffs.add(id + " shows v" + r.version() + " " + text + ", the server has v" + p.version()
            + " " + textOf(p));
      }
      Optional<Snapshot> s = store.get(key(id));
      if (s.isEmpty() || s.get().version() != p.version()) {
        diffs.add(id + " stored " + s.map(x -> "v" + x.version()).orElse("nothing")
            + ", the server has v" + p.version());
      }
    }
    for (String id : mustNotStore) {
      if (!expected.contains(id) && store.get(key(id)).isPresent()) {
        diffs.add(id + " was unpublished while the client was told, yet is stored");
      }
    }
    return diffs;
  }

  /** Where the client's connection and the server are released; the store is closed. */
  @Override
  public void close() {
    try {
      disconnect();
      server.shutdown();
      store.close();
    } finally {
      if (ShownStates.current == shown) {
        ShownStates.current = null;
      }
    }
  }

  /** How many objects the server publishes now. */
  int publishedCount() {
    return published.size();
  }

  // --- checks ----------------------------------------------------------------------------------

  /** Every stored entry is a state the server had at the stored version, in its format. */
  void checkStore() {
    for (SnapshotEntry e : store.list(SnapshotPrefix.all())) {
      SnapshotKey key = e.key();
      assertThat(key.prefix()).as("prefix of stored key %s", key).isEqualTo(PREFIX);
      Optional<Snapshot> read = store.get(key);
      if (read.isEmpty() && store.list(key.prefix()).stream()
          .noneMatch(other -> other.key().equals(key))) {
        continue;    // removed since the listing (an unpublish announced meanwhile)
      }
      assertThat(read).as("%s is listed but reads as a miss", key).isPresent();
      Snapshot s = read.get();
      Optional<byte[]> had = history.stateAt(key.identity(), s.version());
      assertThat(had)
          .as("stored %s v%d (%s): the server never published that version", key.identity(),
              s.version(), storedText(s))
          .isPresent();
      String text = VersionHistory.text(had.get());
      assertThat(s.formatVersion()).as("format of stored %s v%d", key.identity(), s.version())
          .isEqualTo(text.startsWith("t:") ? TILE_FORMAT : COUNTER_FORMAT);
      assertThat(storedText(s))
          .as("stored state of %s v%d is what the server had at that version", key.identity(),
              s.version())
          .isEqualTo(text);
    }
  }

  /**
   * Every state that reached user code since the last check was one the server had at that
   * version, and none was an update of an object already unpublished.
   */
  void checkShown() {
    List<ShownStates.Shown> notes = shown.take();
    for (ShownStates.Shown s : notes) {
      Optional<byte[]> had = history.stateAt(s.identity(), s.version());
      assertThat(had).as("shown to user code: %s, a version the server never had", s)
          .isPresent();
      assertThat(s.text()).as("shown to user code: %s; the server had %s at that version", s,
          VersionHistory.text(had.get())).isEqualTo(VersionHistory.text(had.get()));
      assertThat(s.unpublished()).as("shown to user code: %s", s).isFalse();
    }
    coverage.collect("states shown to user code", notes.isEmpty() ? "none in a step" : "some");
  }

  /** The store holds {@code ids}' current states and versions (and only states the server had). */
  private void assertStoreHoldsCurrentStates(String when, Iterable<String> ids) {
    checkStore();
    for (String id : ids) {
      Publishable p = published.get(id);
      Optional<Snapshot> s = store.get(key(id));
      assertThat(s).as("%s stored %s", id, when).isPresent();
      assertThat(s.get().version()).as("stored version of %s %s", id, when)
          .isEqualTo(p.version());
      assertThat(storedText(s.get())).as("stored state of %s %s", id, when).isEqualTo(textOf(p));
    }
  }

  private void checkStoreHoldsNothingUnpublished(String when) {
    for (String id : mustNotStore) {
      if (!published.containsKey(id)) {
        assertThat(store.get(key(id))).as("%s, unpublished and the client told, stored %s", id,
            when).isEmpty();
      }
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

  /** The objects the live attachment covers, as the server decides what to announce. */
  private Set<String> expectedView() {
    Set<String> view = new TreeSet<>();
    for (String id : published.keySet()) {
      if (wants(id)) {
        view.add(id);
      }
    }
    return view;
  }

  /** Whether the server announces {@code id} to the live attachment (its Subscriber.wants). */
  private boolean wants(String id) {
    return interest == null ? !excluded.contains(id) : interest.contains(id);
  }

  /** Waits until the client shows {@code id} at the server's version and stores it so. */
  private void awaitCurrent(String id, String what) {
    Publishable p = published.get(id);
    long version = p.version();
    String text = textOf(p);
    Attachment a = attachment;
    waitUntil(id + " v" + version + " " + text + ", " + what + ", reaches the client and its store")
        .until(() -> a.objects().get(id) instanceof PropertyObject o
            && ((RemotePublished) o).version() == version && text.equals(o.text())
            && store.get(key(id)).map(s -> s.version() == version).orElse(false));
  }

  /** The published identities picked by the bits of {@code mask}, in order. */
  private List<String> pick(int mask) {
    List<String> ids = new ArrayList<>(published.keySet());
    List<String> picked = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      if ((mask & (1 << i)) != 0) {
        picked.add(ids.get(i));
      }
    }
    return picked;
  }

  private Publishable newObject(String id, Kind kind, Versioning versioning, int value) {
    if (kind == Kind.TILE) {
      String terrain = terrain(value);
      return versioning == Versioning.CONTENT
          ? new PropertyTile(id, terrain, contentVersion(PropertyTile.textOf(terrain)))
          : new PropertyTile(id, terrain);
    }
    PropertyCounter.State s = new PropertyCounter.State(name(value), 0);
    return versioning == Versioning.CONTENT
        ? new PropertyCounter(id, s.name(), s.count(), contentVersion(PropertyCounter.textOf(s)))
        : new PropertyCounter(id, s.name(), s.count());
  }

  /** The version the application derives from a state, as it would from a content hash. */
  private long contentVersion(String text) {
    long v = contentVersions.computeIfAbsent(text, t -> contentVersions.size() + 1L);
    assertThat(v).as("content versions stay below the service's").isLessThan(
        FIRST_SERVICE_VERSION);
    return v;
  }

  private ToLongFunction<String> versionsOf(Versioning versioning) {
    return versioning == Versioning.CONTENT ? this::contentVersion : null;
  }

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
    Map<String, Publishable> rebuilt = new TreeMap<>();
    for (Publishable old : published.values()) {
      String id = old.identity();
      long version = old.version();
      boolean reassign = reassignServiceVersions && version >= FIRST_SERVICE_VERSION;
      Publishable p;
      if (old instanceof PropertyTile t) {
        p = reassign ? new PropertyTile(id, t.terrain()) : new PropertyTile(id, t.terrain(),
            version);
      } else {
        PropertyCounter.State s = ((PropertyCounter) old).state();
        p = reassign ? new PropertyCounter(id, s.name(), s.count())
            : new PropertyCounter(id, s.name(), s.count(), version);
      }
      service.publish(p);
      rebuilt.put(id, p);
      recordCurrent(p);
    }
    published = rebuilt;
  }

  private PbServer startServer() {
    return cleanup.register(PbServer.builder().inProcess(address).registry(REGISTRY)
        .rootFactory(service::endpoint).build().start());
  }

  private SnapshotStore openStore() {
    return SnapshotStore.builder().backend(backend).path(storeFile).build();
  }

  private void recordCurrent(Publishable p) {
    history.record(p.identity(), p.version(),
        textOf(p).getBytes(StandardCharsets.UTF_8));
    if (p.version() >= FIRST_SERVICE_VERSION) {
      lastServiceVersion = Math.max(lastServiceVersion, p.version());
    }
  }

  private String describeServer() {
    StringBuilder b = new StringBuilder();
    for (Publishable p : published.values()) {
      b.append(b.length() == 0 ? "" : ", ").append(p.identity()).append(" v").append(p.version())
          .append(' ').append(textOf(p));
    }
    return b.toString();
  }

  /** The identity of the {@code object}-th published object (modulo their number); or null. */
  private String identityAt(int object) {
    if (published.isEmpty()) {
      return null;
    }
    return new ArrayList<>(published.keySet()).get(object % published.size());
  }

  private static String textOf(Publishable p) {
    return ((PropertyObject) p).text();
  }

  /** A stored state as text: a tile's bytes, or a counter's record decoded. */
  private static String storedText(Snapshot s) {
    if (s.formatVersion() == COUNTER_FORMAT) {
      return PropertyCounter.textOf(CODEC.decode(s.state(), PropertyCounter.State.class));
    }
    return VersionHistory.text(s.state());
  }

  private static SnapshotKey key(String id) {
    return new SnapshotKey(SERVER_ID, SERVICE, PublishingService.ANONYMOUS, id);
  }

  private static ConditionFactory waitUntil(String what) {
    return Awaitility.await(what)
        .atMost(PATIENCE)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .pollInSameThread();
  }
}
