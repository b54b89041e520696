package io.pbj.bench.scale;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.Publishing;
import io.pbj.publish.PublishingService;
import io.pbj.publish.Relay;
import io.pbj.publish.RemotePublished;
import io.pbj.publish.ServerKey;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One run of the scale benchmark, all in this JVM on loopback TCP: an origin {@link PbServer}
 * publishing {@link ScaleObject}s, optionally a row of {@link Relay}s (each a client of the
 * origin and a server of its own), and N clients spread over the origin or the relays, each its
 * own {@link PbClient} (its own event-loop thread: PBJ's public API has no way to share one)
 * with one executor shared by all of them, and its own in-memory {@link SnapshotStore} filled
 * beforehand with the snapshots of an earlier attach (warm).
 *
 * <p>The origin, the relays and the clients are each started from a thread of their own thread
 * group, so that {@link GroupCpu} can tell their CPU apart.
 *
 * <p>Thread-safety: not thread-safe; driven by one thread ({@link ScaleBench}). The clients'
 * update listeners run on the clients' executor and only count.
 */
final class ScaleWorld implements AutoCloseable {
  static final String SERVICE = "scale";
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .registerCache(ScaleObject.class, ScalePublished.class)
      .build();
  private static final long TIMEOUT_SECONDS = 300;
  private static final long TICK_TIMEOUT_SECONDS = 60;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  /** The version of every object before the first tick; tick k (from 0) sets {@code 2 + k}. */
  private static final long FIRST_VERSION = 1;

  /**
   * The attach phase.
   *
   * @param attachNanos each client's attach, from building its {@code PbClient} to its attach
   *     answered and every object activated, sorted
   * @param wallNanos from the first attach started to the last one done
   * @param cpu CPU in that time: origin, relays, clients
   * @param originBytes bytes the origin's connections wrote in that time
   * @param relayBytes bytes the relays' downstream connections wrote in that time
   * @param heapBefore heap used after a full GC before the first attach
   * @param heapAfter heap used after a full GC with every client attached
   * @param storeHits objects activated from the clients' stores, over all clients
   * @param failures attaches that failed
   */
  record AttachPhase(long[] attachNanos, long wallNanos, GroupCpu.Split cpu, long originBytes,
      long relayBytes, long heapBefore, long heapAfter, long storeHits, int failures) {}

  /**
   * The tick phase.
   *
   * @param tickNanos each tick, from its first change to the last client applying its last
   *     update, sorted
   * @param wallNanos all ticks
   * @param cpu CPU in that time: origin, relays, clients
   * @param originBytes bytes the origin's connections wrote in that time
   * @param relayBytes bytes the relays' downstream connections wrote in that time
   * @param incomplete ticks that did not reach every client in time
   */
  record TickPhase(long[] tickNanos, long wallNanos, GroupCpu.Split cpu, long originBytes,
      long relayBytes, int incomplete) {}

  /**
   * What {@link #check} found: (client, object) pairs that differ from the origin, and client
   * connections lost during the run.
   */
  record Check(long stateMismatches, long versionMismatches, int clientsLost) {}

  /** The tick whose updates the clients count now. */
  private record Tick(long version, CountDownLatch remaining, AtomicInteger[] counted) {}

  final ThreadGroup originGroup = new ThreadGroup("scale-origin");
  final ThreadGroup relayGroup = new ThreadGroup("scale-relays");
  final ThreadGroup clientGroup = new ThreadGroup("scale-clients");

  private final Options options;
  private final PrintStream progress;
  private final int relayCount;
  private final String host = InetAddress.getLoopbackAddress().getHostAddress();
  private final ServerKey key = ServerKey.generate();
  private final SplittableRandom random = new SplittableRandom(42);
  private final List<ScaleObject> objects = new ArrayList<>();
  private final ExecutorService announcer;
  private final ExecutorService clientExecutor;
  private final PublishingService origin;
  private final PbServer originServer;
  private final List<Relay> relays = new ArrayList<>();
  private final List<PbClient> relayUpstreams = new ArrayList<>();
  private final List<SnapshotStore> relayStores = new ArrayList<>();
  private final List<PbServer> relayServers = new ArrayList<>();
  private final SnapshotStore[] stores;
  private final PbClient[] clients;
  private final Attachment[] attachments;
  private volatile Tick tick;
  /** Client connections lost before {@link #close}, and the first cause. */
  private final AtomicInteger clientsLost = new AtomicInteger();
  private final AtomicBoolean[] lost;
  private final AtomicReference<Throwable> firstLoss = new AtomicReference<>();
  private volatile boolean closing;
  /** Set once the clients start attaching: connections closed before are the set-up's. */
  private volatile boolean watching;
  /** Why the servers closed connections before {@link #close}, and how often. */
  private final Map<String, Integer> serverLossCauses = new ConcurrentHashMap<>();

  /** Publishes the objects, starts the origin and {@code relayCount} relays (attached, cold). */
  ScaleWorld(Options options, int relayCount, PrintStream progress) throws Exception {
    this.options = options;
    this.progress = progress;
    this.relayCount = relayCount;
    this.stores = new SnapshotStore[options.clients()];
    this.clients = new PbClient[options.clients()];
    this.attachments = new Attachment[options.clients()];
    this.lost = new AtomicBoolean[options.clients()];
    Arrays.setAll(lost, i -> new AtomicBoolean());
    announcer = Executors.newSingleThreadExecutor(named(originGroup, "scale-announcer"));
    clientExecutor = Executors.newCachedThreadPool(named(clientGroup, "scale-client"));
    for (int i = 0; i < options.objects(); i++) {
      byte[] state = new byte[options.stateBytes()];
      random.nextBytes(state);
      objects.add(new ScaleObject(
          String.format(Locale.ROOT, "scale-%06d", i), FIRST_VERSION, state));
    }
    origin = PublishingService.builder().serverKey(key).service(SERVICE).announcer(announcer)
        .delegateToRelays(p -> true).build();
    origin.publishAll(objects);
    originServer = in(originGroup, () -> PbServer.builder().port(0).registry(REGISTRY)
        .root(origin.endpoint()).onDisconnect(this::serverLost)
        .maxConnectionsPerAddress(0)    // every client connects from loopback
        .build().start());
    try {
      for (int r = 0; r < relayCount; r++) {
        in(relayGroup, this::startRelay);
      }
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  private Void startRelay() throws Exception {
    SnapshotStore store = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
    relayStores.add(store);
    Relay relay = Relay.builder().registry(REGISTRY)
        .upstream(PublishedClient.builder().store(store).expectedServerId(key.serverId()))
        .build();
    relays.add(relay);
    PbClient upstream = PbClient.builder().address(host, originServer.port()).registry(REGISTRY)
        .build();
    relayUpstreams.add(upstream);
    RemoteReference root = upstream.rootObject().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    relay.attach(root, SERVICE).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    relayServers.add(PbServer.builder().port(0).registry(REGISTRY)
        .root(relay.service().endpoint()).onDisconnect(this::serverLost)
        .maxConnectionsPerAddress(0)
        .build().start());
    return null;
  }

  /**
   * Makes every client's store warm: one client attaches to the origin with an empty store, and
   * what that attach stored is copied into each client's own in-memory store. Returns the number
   * of snapshots each store holds.
   */
  int prepareStores() throws Exception {
    SnapshotStore seedStore = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
    PbClient seed = PbClient.builder().address(host, originServer.port()).registry(REGISTRY)
        .build();
    Map<SnapshotKey, Snapshot> snapshots = new HashMap<>();
    try {
      RemoteReference root = seed.rootObject().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      Attachment a = PublishedClient.builder().store(seedStore).expectedServerId(key.serverId())
          .build().attach(root, SERVICE).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (a.objects().size() != objects.size()) {
        throw new IllegalStateException("the seed client holds " + a.objects().size()
            + " objects, the origin publishes " + objects.size());
      }
      seedStore.flush();
      for (SnapshotEntry e : seedStore.list(SnapshotPrefix.of(key.serverId(), SERVICE))) {
        seedStore.get(e.key()).ifPresent(s -> snapshots.put(e.key(), s));
      }
    } finally {
      seed.shutdown();
      seed.awaitTermination(SHUTDOWN_TIMEOUT);
      seedStore.close();
    }
    if (snapshots.size() != objects.size()) {
      throw new IllegalStateException("the seed client stored " + snapshots.size()
          + " snapshots, the origin publishes " + objects.size());
    }
    for (int i = 0; i < stores.length; i++) {
      stores[i] = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
      stores[i].putAll(snapshots);
      stores[i].flush();
    }
    return snapshots.size();
  }

  /** Attaches every client, starts spread evenly over {@code staggerMillis}. */
  AttachPhase attachAll() throws Exception {
    int n = clients.length;
    long[] attachNanos = new long[n];
    AtomicLong lastDone = new AtomicLong();
    AtomicInteger failures = new AtomicInteger();
    AtomicReference<Throwable> firstFailure = new AtomicReference<>();
    CountDownLatch done = new CountDownLatch(n);
    long heapBefore = usedHeapAfterGc();
    long originBefore = originBytesSent();
    long relaysBefore = relayBytesSent();
    GroupCpu cpu = new GroupCpu(originGroup, relayGroup, clientGroup);
    double spacing = n == 1 ? 0 : options.staggerMillis() * 1e6 / n;
    watching = true;
    cpu.start();
    long start = System.nanoTime();
    in(clientGroup, () -> {
      for (int i = 0; i < n; i++) {
        long due = start + (long) (i * spacing);
        long wait;
        while ((wait = due - System.nanoTime()) > 0) {
          LockSupport.parkNanos(wait);
        }
        attach(i, attachNanos, lastDone, failures, firstFailure, done);
      }
      return null;
    });
    if (!done.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      throw new IllegalStateException(done.getCount() + " of " + n + " attaches did not end in "
          + TIMEOUT_SECONDS + " s");
    }
    GroupCpu.Split split = cpu.stop();
    long originBytes = originBytesSent() - originBefore;
    long relayBytes = relayBytesSent() - relaysBefore;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " of " + n + " attaches failed",
          firstFailure.get());
    }
    long heapAfter = usedHeapAfterGc();
    long hits = 0;
    for (Attachment a : attachments) {
      hits += a.hits();
    }
    Arrays.sort(attachNanos);
    return new AttachPhase(attachNanos, lastDone.get() - start, split, originBytes, relayBytes,
        heapBefore, heapAfter, hits, failures.get());
  }

  /** On a client-group thread: starts client {@code i}'s attach. */
  private void attach(int i, long[] attachNanos, AtomicLong lastDone, AtomicInteger failures,
      AtomicReference<Throwable> firstFailure, CountDownLatch done) {
    int port = relayCount == 0 ? originServer.port() : relayServers.get(i % relayCount).port();
    long t0 = System.nanoTime();
    PbClient pb = PbClient.builder().address(host, port).registry(REGISTRY)
        .executor(clientExecutor).onDisconnect(cause -> clientLost(i, cause)).build();
    clients[i] = pb;
    SnapshotStore store = stores[i];
    pb.rootObject()
        .thenCompose(root -> PublishedClient.builder().store(store)
            .expectedServerId(key.serverId()).build().attach(root, SERVICE))
        .whenComplete((a, failure) -> {
          long t1 = System.nanoTime();
          attachNanos[i] = t1 - t0;
          lastDone.accumulateAndGet(t1, Math::max);
          if (failure != null) {
            failures.incrementAndGet();
            firstFailure.compareAndSet(null, failure);
          } else {
            attachments[i] = a;
            a.objects().values().forEach(p -> count(i, p));
          }
          done.countDown();
        });
  }

  private void clientLost(int i, Throwable cause) {
    if (!closing && lost[i].compareAndSet(false, true)) {
      clientsLost.incrementAndGet();
      Tick t = tick;
      if (t != null) {
        forgive(t, i);
      }
      if (firstLoss.compareAndSet(null, cause)) {
        progress.printf(Locale.ROOT, "scale: a client lost its connection: %s%n", cause);
      }
    }
  }

  private void serverLost(PbConnection connection, Throwable cause) {
    if (watching && !closing) {
      String why = String.valueOf(cause);
      if (serverLossCauses.merge(why, 1, Integer::sum) == 1) {
        progress.printf(Locale.ROOT, "scale: a server closed a connection: %s%n", why);
      }
    }
  }

  /** Client {@code i} is lost: its missing updates will never come, the tick stops waiting. */
  private void forgive(Tick t, int i) {
    AtomicInteger c = t.counted()[i];
    if (c == null) {
      return;
    }
    int missing = options.perTick() - Math.min(options.perTick(), c.getAndSet(options.perTick()));
    for (int k = 0; k < missing; k++) {
      t.remaining().countDown();
    }
  }

  /** Client connections lost so far (none is expected). */
  int clientsLost() {
    return clientsLost.get();
  }

  /** Counts each newer version {@code p} applies towards the current tick. */
  private void count(int client, RemotePublished p) {
    AtomicLong last = new AtomicLong(p.version());
    p.onUpdate(r -> {
      long v = r.version();
      Tick t = tick;
      if (last.getAndAccumulate(v, Math::max) < v && t != null && t.version() == v
          && t.counted()[client] != null
          && t.counted()[client].incrementAndGet() <= options.perTick()) {
        t.remaining().countDown();
      }
    });
  }

  /**
   * Runs the ticks one after the other from an origin-group thread: each gives {@code perTick}
   * objects (the next ones, round robin) a new whole state and waits until every client applied
   * all of them.
   */
  TickPhase tickAll() throws Exception {
    int ticks = options.ticks();
    int perTick = options.perTick();
    long[] tickNanos = new long[ticks];
    int[] incomplete = new int[1];
    int[] done = new int[1];
    long originBefore = originBytesSent();
    long relaysBefore = relayBytesSent();
    GroupCpu cpu = new GroupCpu(originGroup, relayGroup, clientGroup);
    SplittableRandom states = new SplittableRandom(7);
    cpu.start();
    long start = System.nanoTime();
    in(originGroup, () -> {
      for (int k = 0; k < ticks; k++) {
        long version = FIRST_VERSION + 1 + k;
        // Only clients connected now are waited for (each counted here, none if it is lost).
        AtomicInteger[] counted = new AtomicInteger[clients.length];
        int live = 0;
        for (int i = 0; i < clients.length; i++) {
          if (!lost[i].get()) {
            counted[i] = new AtomicInteger();
            live++;
          }
        }
        Tick t = new Tick(version, new CountDownLatch(perTick * live), counted);
        tick = t;
        for (int i = 0; i < clients.length; i++) {
          if (counted[i] != null && lost[i].get()) {
            forgive(t, i);    // lost between the count above and the tick being set
          }
        }
        long t0 = System.nanoTime();
        for (int j = 0; j < perTick; j++) {
          byte[] state = new byte[options.stateBytes()];
          states.nextBytes(state);
          objects.get((k * perTick + j) % objects.size()).change(state, version);
        }
        boolean reached = t.remaining().await(TICK_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        tickNanos[k] = System.nanoTime() - t0;
        done[0]++;
        if (!reached) {
          // A client that missed an update misses every later tick too: stop here.
          incomplete[0] = ticks - k;
          diagnose(k, t);
          break;
        }
      }
      return null;
    });
    long wall = System.nanoTime() - start;
    GroupCpu.Split split = cpu.stop();
    tick = null;
    long[] made = Arrays.copyOf(tickNanos, done[0]);
    Arrays.sort(made);
    return new TickPhase(made, wall, split, originBytesSent() - originBefore,
        relayBytesSent() - relaysBefore, incomplete[0]);
  }

  /**
   * Says which clients missed tick {@code k}'s updates, and what their connections and the
   * origin's connections carried, so a lost update can be told from a slow one.
   */
  private void diagnose(int k, Tick t) {
    int lagging = 0;
    long missing = 0;
    int firstLagging = -1;
    int firstCurrent = -1;
    for (int i = 0; i < attachments.length; i++) {
      if (lost[i].get()) {
        continue;
      }
      int behind = 0;
      for (RemotePublished p : attachments[i].objects().values()) {
        if (p.version() < FIRST_VERSION + 1 + k
            && objects.get(indexOf(p.identity())).version() == t.version()) {
          behind++;
        }
      }
      if (behind > 0) {
        lagging++;
        missing += behind;
        if (firstLagging < 0) {
          firstLagging = i;
        }
      } else if (firstCurrent < 0) {
        firstCurrent = i;
      }
    }
    progress.printf(Locale.ROOT, "scale: tick %d did not reach every client in %d s:"
        + " %d updates uncounted; %d clients hold %d objects behind the tick; %d client"
        + " connections lost (first: %s)%n", k, TICK_TIMEOUT_SECONDS, t.remaining().getCount(),
        lagging, missing, clientsLost.get(), firstLoss.get());
    if (firstLagging >= 0) {
      progress.printf(Locale.ROOT, "scale:   client %d (behind) received %s; client %d (current)"
          + " received %s%n", firstLagging, received(firstLagging), firstCurrent,
          firstCurrent < 0 ? "-" : received(firstCurrent));
    }
    List<PbServer> servers = relayCount == 0 ? List.of(originServer) : relayServers;
    List<Long> sent = new ArrayList<>();
    for (PbServer s : servers) {
      for (PbConnection c : s.connections()) {
        sent.add(c.stats().messagesSent());
      }
    }
    sent.sort(null);
    progress.printf(Locale.ROOT, "scale:   messages the clients' server connections sent: min %d,"
        + " median %d, max %d%n", sent.isEmpty() ? 0 : sent.get(0),
        sent.isEmpty() ? 0 : sent.get(sent.size() / 2),
        sent.isEmpty() ? 0 : sent.get(sent.size() - 1));
  }

  private static int indexOf(String identity) {
    return Integer.parseInt(identity.substring(identity.indexOf('-') + 1));
  }

  private String received(int client) {
    try {
      PbConnection.Stats s = clients[client].connection().get(10, TimeUnit.SECONDS).stats();
      return s.messagesReceived() + " messages, " + s.bytesReceived() + " bytes";
    } catch (Exception e) {
      return "(no connection: " + e + ")";
    }
  }

  /**
   * Compares every client's objects with the origin's: identities, versions and state bytes. A
   * client whose connection was lost is left out (it holds what it had when it was lost) and
   * counted in {@link Check#clientsLost()}.
   */
  Check check() {
    long states = 0;
    long versions = 0;
    for (int i = 0; i < attachments.length; i++) {
      if (lost[i].get()) {
        continue;
      }
      Map<String, RemotePublished> held = attachments[i].objects();
      long missing = Math.abs(held.size() - objects.size());
      states += missing;
      versions += missing;
      for (ScaleObject o : objects) {
        RemotePublished p = held.get(o.identity());
        if (!(p instanceof ScalePublished sp)) {
          states++;
          versions++;
          continue;
        }
        if (sp.version() != o.version()) {
          versions++;
        }
        if (!Arrays.equals(sp.state(), o.state())) {
          states++;
        }
      }
    }
    return new Check(states, versions, clientsLost.get());
  }

  /** The bytes the origin's connections have written (to clients, or to relays). */
  private long originBytesSent() {
    return bytesSent(List.of(originServer));
  }

  private long relayBytesSent() {
    return bytesSent(relayServers);
  }

  private static long bytesSent(List<PbServer> servers) {
    long sum = 0;
    for (PbServer s : servers) {
      for (PbConnection c : s.connections()) {
        sum += c.stats().bytesSent();
      }
    }
    return sum;
  }

  /** Heap in use after full collections (several, until it stops shrinking much). */
  static long usedHeapAfterGc() {
    var memory = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 3; i++) {
      memory.gc();
      long now = memory.getHeapMemoryUsage().getUsed();
      if (now > used - (used >> 7)) {
        return Math.min(now, used);
      }
      used = now;
    }
    return used;
  }

  /** Runs {@code task} on a new thread of {@code group} and waits for it. */
  private static <T> T in(ThreadGroup group, Callable<T> task) throws Exception {
    AtomicReference<T> result = new AtomicReference<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread t = new Thread(group, () -> {
      try {
        result.set(task.call());
      } catch (Throwable e) {
        failure.set(e);
      }
    }, group.getName() + "-main");
    t.start();
    t.join();
    Throwable e = failure.get();
    if (e instanceof Exception ex) {
      throw ex;
    } else if (e instanceof Error er) {
      throw er;
    }
    return result.get();
  }

  private static ThreadFactory named(ThreadGroup group, String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(group, r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  @Override
  public void close() throws InterruptedException {
    closing = true;
    for (PbClient c : clients) {
      if (c != null) {
        c.shutdown();
      }
    }
    for (PbClient c : clients) {
      if (c != null) {
        c.awaitTermination(SHUTDOWN_TIMEOUT);
      }
    }
    for (SnapshotStore s : stores) {
      if (s != null) {
        s.close();
      }
    }
    relays.forEach(Relay::close);
    for (PbServer s : relayServers) {
      s.shutdown();
      s.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    for (PbClient c : relayUpstreams) {
      c.shutdown();
      c.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    relayStores.forEach(SnapshotStore::close);
    originServer.shutdown();
    originServer.awaitTermination(SHUTDOWN_TIMEOUT);
    announcer.shutdown();
    clientExecutor.shutdown();
    announcer.awaitTermination(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    clientExecutor.awaitTermination(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
  }
}
