package io.pbj.bench.publish;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbRegistry;
import io.pbj.RemoteReference;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.PublishingService;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.WireState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client side of the benchmark: runs one session of a strategy on a fresh connection and
 * says what it cost, then checks that every object holds the state the server has now.
 *
 * <p>A session is timed from just before the call that delivers the objects to activation done
 * (every object's state applied, the client's store writes handed to the store's write-behind
 * queue). Connecting, the registry handshake and getting the root object are outside it; so are
 * the check and the disconnect.
 *
 * <p>Thread-safety: not thread-safe; used by the benchmark thread, one session at a time.
 */
final class Clients {
  private static final long TIMEOUT_SECONDS = 120;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  /** The per-object baseline checks for dropped store writes every this many puts. */
  private static final int DROP_CHECK_EVERY = 1000;

  private final World world;
  private final String host = InetAddress.getLoopbackAddress().getHostAddress();
  private final PbRegistry registry = World.serverRegistry();
  private final PbRegistry perObjectRegistry = World.perObjectRegistry();

  /** What a strategy's session did, and how to check it afterwards (outside the timing). */
  private record Outcome(int objects, int hits, int fromServer, Runnable check) {}

  Clients(World world) {
    this.world = world;
  }

  /**
   * Runs one session of {@code strategy} with the strategy's server at {@code port} on loopback
   * (the server itself, or a {@link LinkProxy} in front of it); {@code store} is null for the
   * plain strategy.
   */
  Session run(Strategy strategy, int port, TimedStore store) throws Exception {
    PbClient client = PbClient.builder()
        .address(host, port)
        .registry(strategy == Strategy.PER_OBJECT ? perObjectRegistry : registry)
        .build();
    try {
      RemoteReference root = client.rootObject().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      PbConnection connection = root.connection();
      long droppedBefore = 0;
      if (store != null) {
        droppedBefore = store.stats().droppedWrites();
        store.reset();
      }
      PbConnection.Stats before = connection.stats();
      long t0 = System.nanoTime();
      Outcome outcome = switch (strategy) {
        case INVENTORY, VERSIONS -> publishing(strategy, root, store);
        case PLAIN -> plain(root);
        case PER_OBJECT -> perObject(root, store);
      };
      long t1 = System.nanoTime();
      PbConnection.Stats after = connection.stats();
      outcome.check().run();
      long answer = 0;
      long list = 0;
      long reads = 0;
      long writes = 0;
      long dropped = 0;
      if (store != null) {
        answer = store.firstTouchNanos() == 0 ? 0 : store.firstTouchNanos() - t0;
        list = store.listNanos();
        reads = store.readNanos();
        writes = store.writeNanos();
        dropped = store.stats().droppedWrites() - droppedBefore;
      }
      return new Session(
          t1 - t0,
          after.bytesSent() - before.bytesSent(),
          after.bytesReceived() - before.bytesReceived(),
          after.callsSent() - before.callsSent() - 1,
          outcome.objects(),
          outcome.hits(),
          outcome.fromServer(),
          answer,
          list,
          reads,
          writes,
          dropped);
    } finally {
      client.shutdown();
      client.awaitTermination(SHUTDOWN_TIMEOUT);
    }
  }

  /** PBJ's own client, in inventory or versions mode. */
  private Outcome publishing(Strategy strategy, RemoteReference root, SnapshotStore store)
      throws Exception {
    PublishedClient publishing = PublishedClient.builder()
        .store(store)
        .mode(strategy == Strategy.INVENTORY
            ? PublishedClient.Mode.INVENTORY : PublishedClient.Mode.VERSIONS)
        .expectedServerId(World.SERVER_ID)
        .build();
    Attachment a = publishing.attach(root, World.SERVICE).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return new Outcome(a.objects().size(), a.hits(), a.inlined() + a.fetched(), () -> {
      expectSize(a.objects().size());
      for (int i = 0; i < world.size(); i++) {
        BenchPublished p = a.get(world.published(i).identity(), BenchPublished.class);
        expectState(p == null ? null : p.state(), world.published(i).state(), i);
      }
    });
  }

  /** An ordinary Cacheable per object: everything in full, nothing stored. */
  private Outcome plain(RemoteReference root) throws Exception {
    List<?> objects = root.callRemote(List.class, "objects").get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    return new Outcome(objects.size(), 0, objects.size(), () -> {
      expectSize(objects.size());
      for (int i = 0; i < world.size(); i++) {
        expectState(((PlainCache) objects.get(i)).state(), world.plain(i).state(), i);
      }
    });
  }

  /**
   * The baseline after Twisted's publish.py: the attach answer carries versions only (the
   * endpoint's versions mode); each object is compared with the store and every stale one is
   * fetched with a call of its own, all calls issued at once without waiting for each other
   * ({@code RemotePublished.setCopyableState} calling {@code getStateToPublish}); each fetched
   * state is written to the store by itself (publish.py writes one file per object).
   */
  private Outcome perObject(RemoteReference root, SnapshotStore store) throws Exception {
    return root
        .callRemote(AttachReply.class, "attach", World.SERVER_ID, World.SERVICE,
            PublishingService.ANONYMOUS, null, null, null, null, null)
        .thenCompose(reply -> fetchEachStale(root, store, reply))
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  private CompletableFuture<Outcome> fetchEachStale(
      RemoteReference root, SnapshotStore store, AttachReply reply) {
    List<PerObjectCache> caches = new ArrayList<>();
    List<CompletableFuture<Void>> fetches = new ArrayList<>();
    PerObjectWriter writer = new PerObjectWriter(store);
    int hits = 0;
    for (Object o : reply.objects()) {
      PerObjectCache cache = (PerObjectCache) o;
      caches.add(cache);
      WireState announced = cache.announced();
      SnapshotKey key = new SnapshotKey(
          reply.serverId(), reply.service(), reply.perspectiveKey(), announced.identity());
      Optional<Snapshot> stored = store.get(key);
      if (stored.isPresent()
          && stored.get().version() == announced.version()
          && stored.get().formatVersion() == announced.format()) {
        cache.apply(stored.get().state());
        hits++;
        continue;
      }
      fetches.add(root.callRemote(List.class, "fetch", (Object) new String[] {announced.identity()})
          .thenAccept(states -> {
            WireState fresh = (WireState) states.get(0);
            byte[] state = (byte[]) fresh.state();    // the bench's objects publish bytes
            cache.apply(state);
            writer.put(key, Snapshot.of(fresh.version(), fresh.format(), state));
          }));
    }
    int storeHits = hits;
    return CompletableFuture.allOf(fetches.toArray(CompletableFuture[]::new)).thenApply(v -> {
      writer.finish();
      return new Outcome(caches.size(), storeHits, fetches.size(), () -> {
        expectSize(caches.size());
        Map<String, PerObjectCache> byId = new HashMap<>();
        caches.forEach(c -> byId.put(c.announced().identity(), c));
        for (int i = 0; i < world.size(); i++) {
          PerObjectCache c = byId.get(world.published(i).identity());
          expectState(c == null ? null : c.state(), world.published(i).state(), i);
        }
      });
    });
  }

  /**
   * Writes fetched states one put each; if the store's write-behind queue was full and dropped
   * some, flushes once and writes them again, as PBJ's client does for its batches, so that both
   * start the next session with every entry stored.
   */
  private static final class PerObjectWriter {
    private final SnapshotStore store;
    private final Map<SnapshotKey, Snapshot> sinceCheck = new HashMap<>();
    private long dropped = -1;

    PerObjectWriter(SnapshotStore store) {
      this.store = store;
    }

    synchronized void put(SnapshotKey key, Snapshot snapshot) {
      if (dropped < 0) {
        dropped = store.stats().droppedWrites();
      }
      store.put(key, snapshot);
      sinceCheck.put(key, snapshot);
      if (sinceCheck.size() >= DROP_CHECK_EVERY) {
        check();
      }
    }

    synchronized void finish() {
      if (!sinceCheck.isEmpty()) {
        check();
      }
    }

    private void check() {
      long now = store.stats().droppedWrites();
      if (now != dropped) {
        store.flush();
        sinceCheck.forEach(store::put);
        dropped = store.stats().droppedWrites();
      }
      sinceCheck.clear();
    }
  }

  private void expectSize(int objects) {
    if (objects != world.size()) {
      throw new IllegalStateException(
          "the session activated " + objects + " objects, the server has " + world.size());
    }
  }

  private static void expectState(byte[] held, byte[] server, int i) {
    if (!Arrays.equals(held, server)) {
      throw new IllegalStateException("object " + World.identity(i) + " does not hold the"
          + " server's state after the session (" + (held == null ? "no state" : held.length
          + " bytes") + ")");
    }
  }
}
