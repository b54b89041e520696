package io.pbj.bench.cluster;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.ReconnectPolicy;
import io.pbj.RemoteReference;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.Publishing;
import io.pbj.publish.PublishingService;
import io.pbj.publish.ServerKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The origin-cluster benchmark (issue 14): three members of a cluster on Hazelcast in this JVM
 * (embedded Hazelcast members and PBJ servers on loopback), N clients (default 300) attached
 * across them, a live driver writing at a fixed rate through a surviving member, and one member
 * killed (its Hazelcast instance terminated, its server closed). It reports:
 *
 * <ul>
 *   <li>how long the orphaned clients (those attached to the killed member) take until each is
 *       re-attached to another member, from the kill: p50, p99 and max;
 *   <li>the bytes a re-attach cost (sent + received on the client's new connection, from the
 *       attach call until every object is activated), against a cold attach of the same world
 *       (each client's first attach, with an empty store);
 *   <li>the store hits of the re-attaches (objects activated from the client's store, of all
 *       objects re-attached; what the driver changed meanwhile is not a hit);
 *   <li>the throughput of changes a second applied on every member of the cluster (writers spread
 *       over the members, until every member holds the last state of every object) against one
 *       plain origin (a {@code PublishingService} without Hazelcast) under the same driver; no
 *       clients are attached during these runs.
 * </ul>
 *
 * <pre>{@code
 * java -jar pb-bench/target/pbj-bench.jar cluster            # issue 14's sizes
 * java -jar pb-bench/target/pbj-bench.jar cluster --quick    # a smoke run of a few seconds
 * }</pre>
 *
 * <p>Each client is its own {@code PbClient} (its own event loop) with every member's address,
 * starting with a different member (client k with member k mod 3), a reconnect policy, an
 * in-memory store, and a session initializer that attaches on every connection; the clients
 * learn the members from the cluster after each attach.
 *
 * <p>Thread-safety: a {@code main} method only.
 */
public final class ClusterBench {
  static final String SERVICE = "bench-cluster";
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .registerCache("bench.cluster.Object", BenchObject.class, BenchPublished.class)
      .build();
  private static final long TIMEOUT_SECONDS = 120;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);
  private static final ReconnectPolicy RECONNECT =
      ReconnectPolicy.exponential(Duration.ofMillis(50), Duration.ofSeconds(1));

  private ClusterBench() {}

  /**
   * The failover run.
   *
   * @param clients clients attached before the kill
   * @param orphans clients whose member was killed
   * @param reattachNanos per orphan, from the kill until its re-attach completed, sorted
   * @param reattachBytes bytes of all the orphans' re-attaches
   * @param coldBytes mean bytes of a cold attach (the clients' first attaches)
   * @param hits objects the re-attaches activated from the stores
   * @param objects objects the re-attaches activated
   * @param driven changes the driver wrote during the run
   * @param others re-attaches of clients that were not orphaned (0 expected)
   */
  record Failover(int clients, int orphans, long[] reattachNanos, long reattachBytes,
      double coldBytes, long hits, long objects, long driven, int others) {
    double bytesPerReattach() {
      return orphans == 0 ? 0 : (double) reattachBytes / orphans;
    }

    double hitPercent() {
      return objects == 0 ? 0 : 100.0 * hits / objects;
    }
  }

  /**
   * The throughput runs.
   *
   * @param plainChanges changes the plain origin applied
   * @param plainNanos time they took
   * @param clusterChanges changes written to the cluster
   * @param clusterNanos time until every member held the last state of every object
   */
  record Throughput(long plainChanges, long plainNanos, long clusterChanges, long clusterNanos) {
    double plainPerSecond() {
      return plainChanges / (plainNanos / 1e9);
    }

    double clusterPerSecond() {
      return clusterChanges / (clusterNanos / 1e9);
    }
  }

  /** Everything one run measured. */
  record Result(Options options, Throughput throughput, Failover failover) {}

  /** Runs the benchmark; bad options print the usage and exit with status 2. */
  public static void main(String[] args) throws Exception {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("cluster: " + e.getMessage());
      Options.usage(System.err);
      System.exit(2);
      return;
    }
    if (options.help()) {
      Options.usage(System.out);
      return;
    }
    if (System.getProperty("org.slf4j.simpleLogger.log.com.hazelcast") == null) {
      System.setProperty("org.slf4j.simpleLogger.log.com.hazelcast", "warn");
    }
    print(System.out, run(options, System.err));
  }

  /** Runs the throughput runs and the failover, logging progress on {@code log}. */
  static Result run(Options o, PrintStream log) throws Exception {
    log.println("cluster: plain origin, " + o.writers() + " writers for " + o.seconds() + " s");
    long[] plain = plainThroughput(o);
    ServerKey key = ServerKey.generate();
    String name = "pbj-bench-" + UUID.randomUUID();
    int[] ports = freePorts(Options.MEMBERS);
    List<String> hz = new ArrayList<>();
    for (int p : ports) {
      hz.add("127.0.0.1:" + p);
    }
    log.println("cluster: starting " + Options.MEMBERS + " Hazelcast members");
    List<Member> members = new ArrayList<>();
    try {
      for (int p : ports) {
        members.add(new Member(name, p, hz, key));
      }
      Map<String, byte[]> world = new LinkedHashMap<>();
      for (int i = 0; i < o.objects(); i++) {
        world.put(identity(i), state(i, 0, o.stateBytes()));
      }
      members.get(0).cluster.publishAll(world);
      awaitEveryMemberHolds(members, world);
      log.println("cluster: " + o.writers() + " writers for " + o.seconds() + " s");
      long[] clustered = clusterThroughput(o, members);
      Throughput t = new Throughput(plain[0], plain[1], clustered[0], clustered[1]);
      log.println("cluster: " + o.clients() + " clients, then a member killed under "
          + o.rate() + " changes/s");
      Failover f = failover(o, members, key);
      return new Result(o, t, f);
    } finally {
      for (Member m : members) {
        m.close();
      }
    }
  }

  static String identity(int i) {
    return String.format(Locale.ROOT, "obj-%05d", i);
  }

  /** A state of {@code bytes} bytes, different for each object and each sequence number. */
  static byte[] state(int object, long seq, int bytes) {
    byte[] s = new byte[bytes];
    new Random(object * 31L + seq).nextBytes(s);
    ByteBuffer.wrap(s).putInt(object).putLong(seq);
    return s;
  }

  /** The plain origin under the driver: changes applied and the time they took. */
  private static long[] plainThroughput(Options o) throws Exception {
    PublishingService origin = PublishingService.builder().serverKey(ServerKey.generate())
        .service(SERVICE).build();
    BenchObject[] objects = new BenchObject[o.objects()];
    for (int i = 0; i < objects.length; i++) {
      objects[i] = new BenchObject(identity(i), 1, state(i, 0, o.stateBytes()));
    }
    origin.publishAll(Arrays.asList(objects));
    PbServer server = PbServer.builder().address("127.0.0.1", 0).registry(REGISTRY)
        .root(origin.endpoint()).build().start();
    try {
      long start = System.nanoTime();
      long n = drive(o, (writer, i, s) -> objects[i].change(s));
      return new long[] {n, System.nanoTime() - start};
    } finally {
      server.close();
    }
  }

  /** The cluster under the driver, writers spread over the members, until every member holds. */
  private static long[] clusterThroughput(Options o, List<Member> members) throws Exception {
    long start = System.nanoTime();
    long n = drive(o, (writer, i, s) ->
        members.get(writer % members.size()).cluster.publish(identity(i), s));
    Map<String, byte[]> last = new LinkedHashMap<>();
    for (int i = 0; i < o.objects(); i++) {
      last.put(identity(i), (byte[]) members.get(0).cluster.state(identity(i)).orElseThrow());
    }
    awaitEveryMemberHolds(members, last);
    return new long[] {n, System.nanoTime() - start};
  }

  /** A write of the driver: writer thread, object index, new state. */
  @FunctionalInterface
  private interface Write {
    void write(int writer, int object, byte[] state);
  }

  /** {@code o.writers()} threads writing as fast as they can for {@code o.seconds()}. */
  private static long drive(Options o, Write write) throws Exception {
    AtomicLong seq = new AtomicLong(1);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.seconds());
    ExecutorService writers = Executors.newFixedThreadPool(o.writers());
    try {
      List<CompletableFuture<Void>> done = new ArrayList<>();
      for (int w = 0; w < o.writers(); w++) {
        int writer = w;
        done.add(CompletableFuture.runAsync(() -> {
          while (System.nanoTime() - end < 0) {
            long s = seq.getAndIncrement();
            int i = (int) (s % o.objects());
            write.write(writer, i, state(i, s, o.stateBytes()));
          }
        }, writers));
      }
      CompletableFuture.allOf(done.toArray(new CompletableFuture[0]))
          .get(o.seconds() + TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } finally {
      writers.shutdownNow();
    }
    return seq.get() - 1;
  }

  private static void awaitEveryMemberHolds(List<Member> members, Map<String, byte[]> states)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    for (Member m : members) {
      for (Map.Entry<String, byte[]> e : states.entrySet()) {
        while (!m.holds(e.getKey(), e.getValue())) {
          if (System.nanoTime() - deadline > 0) {
            throw new IllegalStateException("a member does not hold the cluster's state of "
                + e.getKey() + " after " + TIMEOUT_SECONDS + " s");
          }
          TimeUnit.MILLISECONDS.sleep(1);
        }
      }
    }
  }

  /** One client of the failover run. */
  private static final class Client {
    final int index;
    final SnapshotStore store = SnapshotStore.builder().backend(StoreBackend.MEMORY).build();
    final AtomicInteger attaches = new AtomicInteger();
    volatile PbClient pb;
    volatile PublishedClient publishing;
    volatile long firstBytes;
    volatile long reattachBytes;
    volatile long reattachDone;
    volatile int hits;
    volatile int objects;

    Client(int index) {
      this.index = index;
    }
  }

  private static Failover failover(Options o, List<Member> members, ServerKey key)
      throws Exception {
    int n = o.clients();
    Client[] clients = new Client[n];
    ExecutorService executor = Executors.newFixedThreadPool(4);
    CountDownLatch attached = new CountDownLatch(n);
    AtomicReference<CountDownLatch> reattached = new AtomicReference<>();
    AtomicLong killedAt = new AtomicLong();
    AtomicInteger others = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Member victim = members.get(0);
    Driver driver = null;
    try {
      for (int k = 0; k < n; k++) {
        Client c = new Client(k);
        clients[k] = c;
        List<InetSocketAddress> addresses = new ArrayList<>();
        for (int m = 0; m < members.size(); m++) {
          addresses.add(new InetSocketAddress("127.0.0.1",
              members.get((k + m) % members.size()).server.port()));
        }
        c.pb = PbClient.builder().addresses(addresses).registry(REGISTRY).executor(executor)
            .reconnect(RECONNECT)
            .onSession(root -> attach(c, root, attached, reattached, killedAt, others, failure))
            .build();
        c.publishing = PublishedClient.builder().store(c.store)
            .expectedServerId(key.serverId()).learnMembers(c.pb).build();
        c.pb.session();    // connects and attaches
      }
      if (!attached.await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException(attached.getCount() + " of " + n
            + " clients did not attach within " + TIMEOUT_SECONDS + " s", failure.get());
      }
      double cold = Arrays.stream(clients).mapToLong(c -> c.firstBytes).average().orElse(0);
      driver = new Driver(o, members.get(1));
      driver.start();
      TimeUnit.SECONDS.sleep(1);    // the world is live before the kill
      int victimPort = victim.server.port();
      List<Client> orphans = new ArrayList<>();
      for (Client c : clients) {
        if (c.pb.currentAddress() instanceof InetSocketAddress a && a.getPort() == victimPort) {
          orphans.add(c);
        }
      }
      reattached.set(new CountDownLatch(orphans.size()));
      killedAt.set(System.nanoTime());
      victim.kill();
      if (!reattached.get().await(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        throw new IllegalStateException(reattached.get().getCount() + " of " + orphans.size()
            + " orphaned clients did not re-attach within " + TIMEOUT_SECONDS + " s",
            failure.get());
      }
      driver.stop();
      long[] nanos = new long[orphans.size()];
      long bytes = 0;
      long hits = 0;
      long objects = 0;
      for (int i = 0; i < nanos.length; i++) {
        Client c = orphans.get(i);
        nanos[i] = c.reattachDone - killedAt.get();
        bytes += c.reattachBytes;
        hits += c.hits;
        objects += c.objects;
      }
      Arrays.sort(nanos);
      return new Failover(n, orphans.size(), nanos, bytes, cold, hits, objects,
          driver.written(), others.get());
    } finally {
      if (driver != null) {
        driver.stop();
      }
      for (Client c : clients) {
        if (c != null && c.pb != null) {
          c.pb.shutdown();
        }
      }
      for (Client c : clients) {
        if (c != null && c.pb != null) {
          c.pb.awaitTermination(SHUTDOWN_TIMEOUT);
          c.store.close();
        }
      }
      executor.shutdown();
    }
  }

  /** The session initializer of a client: attaches on every connection, measuring it. */
  private static CompletionStage<RemoteReference> attach(Client c, RemoteReference root,
      CountDownLatch attached, AtomicReference<CountDownLatch> reattached, AtomicLong killedAt,
      AtomicInteger others, AtomicReference<Throwable> failure) {
    PbConnection connection = root.connection();
    PbConnection.Stats before = connection.stats();
    return c.publishing.attach(root, SERVICE).whenComplete((a, e) -> {
      if (e != null) {
        failure.compareAndSet(null, e);    // the client retries a lost connection
      }
    }).thenApply(a -> {
      PbConnection.Stats after = connection.stats();
      long bytes = after.bytesSent() - before.bytesSent()
          + after.bytesReceived() - before.bytesReceived();
      if (c.attaches.incrementAndGet() == 1) {
        c.firstBytes = bytes;
        attached.countDown();
      } else {
        CountDownLatch latch = reattached.get();
        if (latch == null || killedAt.get() == 0 || c.reattachDone != 0) {
          others.incrementAndGet();
        } else {
          c.reattachBytes = bytes;
          c.hits = a.hits();
          c.objects = a.objects().size();
          c.reattachDone = System.nanoTime();
          latch.countDown();
        }
      }
      return root;
    });
  }

  /** The live driver of the failover run: {@code rate} changes a second through one member. */
  private static final class Driver {
    private final Options options;
    private final Member member;
    private final AtomicLong written = new AtomicLong();
    private final Thread thread;
    private volatile boolean stopped;

    Driver(Options options, Member member) {
      this.options = options;
      this.member = member;
      this.thread = new Thread(this::run, "cluster-bench-driver");
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    private void run() {
      long tick = TimeUnit.MILLISECONDS.toNanos(10);
      long next = System.nanoTime();
      double owed = 0;
      long seq = 1L << 40;    // apart from the throughput runs' states
      while (!stopped) {
        next += tick;
        long wait = next - System.nanoTime();
        if (wait > 0) {
          try {
            TimeUnit.NANOSECONDS.sleep(wait);
          } catch (InterruptedException e) {
            return;
          }
        }
        owed += options.rate() / 100.0;
        for (; owed >= 1 && !stopped; owed--) {
          int i = (int) (seq % options.objects());
          member.cluster.publish(identity(i), state(i, seq++, options.stateBytes()));
          written.incrementAndGet();
        }
      }
    }

    long written() {
      return written.get();
    }

    void stop() throws InterruptedException {
      stopped = true;
      thread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_SECONDS));
    }
  }

  private static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }

  /** The {@code p}-th percentile (0 to 100) of {@code sorted}, nearest rank; 0 if empty. */
  static long percentile(long[] sorted, double p) {
    if (sorted.length == 0) {
      return 0;
    }
    int rank = (int) Math.ceil(p / 100 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** Prints the two tables. */
  static void print(PrintStream out, Result r) {
    Options o = r.options();
    Failover f = r.failover();
    Throughput t = r.throughput();
    out.printf(Locale.ROOT, "cluster: %d members in one JVM (Hazelcast + PbServer each, loopback),"
            + " %,d objects of %,d B%n", Options.MEMBERS, o.objects(), o.stateBytes());
    out.println();
    out.println("failover: a member killed while the driver writes " + o.rate()
        + " changes/s through another");
    out.printf(Locale.ROOT, "%-8s %-8s %-24s %-12s %-12s %-8s %-8s%n", "clients", "orphans",
        "re-attach ms p50/p99/max", "B/re-attach", "B/cold", "% cold", "hits %");
    out.printf(Locale.ROOT, "%-8d %-8d %-24s %-12.0f %-12.0f %-8.1f %-8.1f%n", f.clients(),
        f.orphans(), String.format(Locale.ROOT, "%.0f / %.0f / %.0f",
            percentile(f.reattachNanos(), 50) / 1e6, percentile(f.reattachNanos(), 99) / 1e6,
            percentile(f.reattachNanos(), 100) / 1e6),
        f.bytesPerReattach(), f.coldBytes(), 100 * f.bytesPerReattach() / f.coldBytes(),
        f.hitPercent());
    out.printf(Locale.ROOT, "  (%,d changes written during the run; %d re-attaches of clients"
        + " that were not orphaned)%n", f.driven(), f.others());
    out.println();
    out.println("throughput: " + o.writers() + " writer threads for " + o.seconds()
        + " s, no clients attached");
    out.printf(Locale.ROOT, "%-44s %12s%n", "origin", "changes/s");
    out.printf(Locale.ROOT, "%-44s %,12.0f%n", "one plain origin (no Hazelcast)",
        t.plainPerSecond());
    out.printf(Locale.ROOT, "%-44s %,12.0f%n",
        "cluster of " + Options.MEMBERS + ", applied on every member", t.clusterPerSecond());
  }
}
