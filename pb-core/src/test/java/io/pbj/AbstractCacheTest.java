package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.util.concurrent.DefaultThreadFactory;
import io.pbj.Fixtures.ScoreboardCache;
import io.pbj.internal.SharedClientGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Cacheable objects and views over every transport; the cache scenarios are ports of Twisted's
 * {@code test_pb} cache tests.
 */
abstract class AbstractCacheTest extends AbstractPbTest {

  @Test
  void initialStateArrivesAndAPushedUpdateChangesIt() throws Exception {
    root.scoreboard.entries.add("before");
    RemoteReference ref = connect(startServer());
    ScoreboardCache cache = (ScoreboardCache) get(ref.callRemote("scoreboard"));
    assertThat(cache.entries).containsExactly("before");
    get(ref.callRemote("post", "after"));
    await().atMost(WAIT).until(() -> cache.entries.size() == 2);
    assertThat(cache.entries).containsExactly("before", "after");
  }

  @Test
  void sameCacheableSentTwiceIsTheSameRemoteCache() throws Exception {
    RemoteReference ref = connect(startServer());
    Object first = get(ref.callRemote("scoreboard"));
    Object second = get(ref.callRemote("scoreboard"));
    assertThat(first).isInstanceOf(ScoreboardCache.class).isSameAs(second);
    assertThat(((ScoreboardCache) first).states).hasValue(1);
  }

  @Test
  void remoteCacheSentBackArrivesAsTheOriginalCacheable() throws Exception {
    RemoteReference ref = connect(startServer());
    Object cache = get(ref.callRemote("scoreboard"));
    assertThat(get(ref.callRemote("isScoreboard", cache))).isEqualTo(true);
  }

  @Test
  void cacheableSentAsARegisteredClassArrivesAsThatClassesRemoteCache() throws Exception {
    root.standIn.entries.add("forwarded");
    RemoteReference ref = connect(startServer());
    Object cache = get(ref.callRemote("standIn"));
    assertThat(cache).isInstanceOf(ScoreboardCache.class);
    assertThat(((ScoreboardCache) cache).entries).containsExactly("forwarded");
    assertThat(get(ref.callRemote("isScoreboard", cache))).isEqualTo(false);
  }

  @Test
  void releasingTheCacheEndsObservationOnTheServer() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    ScoreboardCache cache = (ScoreboardCache) get(ref.callRemote("scoreboard"));
    assertThat(root.scoreboard.observers).hasSize(1);
    cache.release();
    await().atMost(WAIT).until(() -> root.scoreboard.observers.isEmpty());
    assertThat(root.scoreboard.stoppedPerspectives).hasSize(1);
    assertThat(cache.isConnected()).isFalse();
    // pushes after the release reach nobody and break nothing
    get(ref.callRemote("post", "later"));
    assertThat(cache.entries).doesNotContain("later");
  }

  @Test
  void disconnectEndsObservationOfEveryCachedObject() throws Exception {
    PbServer server = startServer();
    PbClient client = client(server, b -> b.registry(Fixtures.registry()));
    RemoteReference ref = client.rootObject().join();
    Object cache = get(ref.callRemote("scoreboard")); // held: a collected cache would be released
    assertThat(root.scoreboard.observers).hasSize(1);
    client.shutdown();
    await().atMost(WAIT).until(() -> root.scoreboard.observers.isEmpty());
    assertThat(root.scoreboard.stoppedPerspectives).hasSize(1);
    java.lang.ref.Reference.reachabilityFence(cache);
  }

  /**
   * How long a hundred clients may take to apply 200 updates each. The work is CPU-bound: 20,000
   * pushes encoded, written, decoded and applied, every buffer tracked by the paranoid leak
   * detector. On a 2-core machine it took 7 to 16 s beside one busy process, and up to 32 s at a
   * load average of 30. Only a cache that stops short waits this long: one that goes wrong fails
   * the wait at once.
   */
  private static final Duration FANOUT_WAIT = Duration.ofSeconds(90);

  @Test
  @Timeout(180) // the hundred connections (up to 13 s at that load), then FANOUT_WAIT
  void hundredObserversSeeEveryUpdateInOrder() throws Exception {
    // a hundred clients from one address: over the default per-address cap
    PbServer server =
        startServer(b -> b.registry(Fixtures.registry()).maxConnectionsPerAddress(0));
    // The clients share one executor, and over TCP two event loops, as the benchmarks' clients
    // do: with threads of their own, a hundred clients start some 400 threads on two cores.
    // Registered before the clients, so the cleanup closes the clients first, then these.
    ExecutorService clientThreads =
        Executors.newCachedThreadPool(new DefaultThreadFactory("pbj-test-clients", true));
    cleanup.register(clientThreads::shutdown);
    if (transport() == TestTransport.TCP) {
      SharedClientGroup.start(2);
      cleanup.register(SharedClientGroup::stop);
    }
    List<ScoreboardCache> caches = new ArrayList<>();
    RemoteReference poster = null;
    for (int i = 0; i < 100; i++) {
      PbClient client =
          client(server, b -> b.registry(Fixtures.registry()).executor(clientThreads));
      RemoteReference ref = get(client.rootObject());
      caches.add((ScoreboardCache) get(ref.callRemote("scoreboard")));
      poster = ref;
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      expected.add("update-" + i);
    }
    List<CompletableFuture<Object>> posts = new ArrayList<>();
    for (String e : expected) {
      posts.add(poster.callRemote("post", e));
    }
    // One wait for the whole delivery: it ends early if a cache goes wrong, and its failure
    // names every cache short of the 200 updates or off them.
    await()
        .atMost(FANOUT_WAIT)
        .pollInterval(Duration.ofMillis(100))
        .failFast(() -> failIfNotEmpty(deliveryReport(posts, caches, expected, true)))
        .untilAsserted(() -> failIfNotEmpty(deliveryReport(posts, caches, expected, false)));
    get(CompletableFuture.allOf(posts.toArray(new CompletableFuture<?>[0])));
    for (ScoreboardCache cache : caches) {
      assertThat(cache.snapshot()).isEqualTo(expected);
      assertThat(cache.states).as("whole states set: only the first").hasValue(1);
    }
  }

  private static void failIfNotEmpty(String report) {
    if (!report.isEmpty()) {
      throw new AssertionError(report);
    }
  }

  /**
   * Why {@code caches} do not hold exactly {@code expected}, received as updates, yet: empty when
   * they do and every post is answered. A cache is wrong when what it holds is not the start of
   * {@code expected}, or when its state was set again (the server coalesced updates into a state,
   * which the default {@link Backpressure}, queueing up to 1024 updates, never needs for 200); it
   * is behind when it holds only the start. With {@code wrongOnly} the report is empty unless some
   * cache is wrong. It names each cache concerned, how many entries it has, and its first mismatch.
   */
  private String deliveryReport(
      List<CompletableFuture<Object>> posts,
      List<ScoreboardCache> caches,
      List<String> expected,
      boolean wrongOnly) {
    List<String> wrong = new ArrayList<>();
    record Behind(int entries, String line) {}
    List<Behind> behind = new ArrayList<>();
    for (int i = 0; i < caches.size(); i++) {
      ScoreboardCache cache = caches.get(i);
      List<String> seen = cache.snapshot();
      int states = cache.states.get();
      int at = 0;
      while (at < seen.size() && at < expected.size() && seen.get(at).equals(expected.get(at))) {
        at++;
      }
      String line = "cache " + i + ": " + seen.size() + " of " + expected.size() + " entries";
      if (at < seen.size()) {
        wrong.add(line + ", first mismatch at " + at + ": expected "
            + (at < expected.size() ? expected.get(at) : "nothing") + ", was " + seen.get(at));
      } else if (states != 1) {
        wrong.add(line + ", its state set " + states + " times (updates coalesced)");
      } else if (seen.size() < expected.size()) {
        behind.add(new Behind(seen.size(), line + ", in order so far"));
      }
    }
    long answered = posts.stream().filter(CompletableFuture::isDone).count();
    if (wrong.isEmpty() && (wrongOnly || (behind.isEmpty() && answered == posts.size()))) {
      return "";
    }
    long failed = posts.stream().filter(CompletableFuture::isCompletedExceptionally).count();
    int queued = 0;
    for (RemoteObserver o : root.scoreboard.observers) {
      queued += o.queuedUpdates();
    }
    StringBuilder report =
        new StringBuilder(wrong.size() + " of " + caches.size() + " caches wrong, "
            + behind.size() + " behind; posts answered " + answered + " of " + posts.size()
            + " (" + failed + " failed); the server has " + root.scoreboard.entries.size()
            + " entries, " + root.scoreboard.observers.size() + " observers, " + queued
            + " updates queued");
    List<String> lines = new ArrayList<>(wrong);
    behind.stream() // the furthest behind first
        .sorted(Comparator.comparingInt(Behind::entries))
        .forEach(b -> lines.add(b.line()));
    int shown = Math.min(lines.size(), 10);
    for (String line : lines.subList(0, shown)) {
      report.append(System.lineSeparator()).append("  ").append(line);
    }
    if (lines.size() > shown) {
      report.append(System.lineSeparator()).append("  and ").append(lines.size() - shown)
          .append(" more");
    }
    return report.toString();
  }

  /** A client that stops reading, and the server pushing 20 MB of updates at it. */
  private RemoteObserver pushAtStalledClient(PbClient slow)
      throws Exception {
    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    clientSide.channel().config().setAutoRead(false);
    RemoteObserver observer = root.scoreboard.observers.iterator().next();
    String pad = "x".repeat(4096);
    int maxQueued = 0;
    for (int i = 0; i < 5000 && observer.isObserving(); i++) {
      root.scoreboard.add(i + pad);
      maxQueued = Math.max(maxQueued, observer.queuedUpdates());
    }
    assertThat(maxQueued).isLessThanOrEqualTo(root.scoreboard.backpressure.maxQueued());
    return observer;
  }

  @Test
  void slowClientQueueIsBoundedAndCoalescesToTheLatestState() throws Exception {
    assumeTrue(transport() == TestTransport.TCP, "in-process channels never become unwritable");
    root.scoreboard.backpressure = Backpressure.coalesce(16);
    PbServer server = startServer();
    PbClient slow = client(server, b -> b.registry(Fixtures.registry()));
    ScoreboardCache cache =
        (ScoreboardCache) get(slow.rootObject().join().callRemote("scoreboard"));
    RemoteObserver observer = pushAtStalledClient(slow);
    assertThat(observer.isObserving()).isTrue();
    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    clientSide.channel().config().setAutoRead(true);
    clientSide.channel().read();
    await().atMost(WAIT).until(() -> cache.entries.size() == 5000);
    assertThat(cache.entries).isEqualTo(root.scoreboard.entries);
    assertThat(cache.states.get()).as("a coalesced state replaced the updates").isGreaterThan(1);
    assertThat(root.scoreboard.statesTaken.get()).isGreaterThan(1);
  }

  @Test
  void updatePushedWhileACoalescedStateIsTakenIsNeverAppliedTwice() throws Exception {
    assumeTrue(transport() == TestTransport.TCP, "in-process channels never become unwritable");
    root.scoreboard.backpressure = Backpressure.coalesce(16);
    PbServer server = startServer();
    PbClient slow = client(server, b -> b.registry(Fixtures.registry()));
    ScoreboardCache cache =
        (ScoreboardCache) get(slow.rootObject().join().callRemote("scoreboard"));
    pushAtStalledClient(slow); // the queue overflowed: a fresh state is due
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    root.scoreboard.stateGateEntered = entered;
    root.scoreboard.stateGate = proceed;
    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    clientSide.channel().config().setAutoRead(true);
    clientSide.channel().read();
    assertThat(entered.await(10, TimeUnit.SECONDS)).as("the fresh state is being taken").isTrue();
    root.scoreboard.add("pushed-while-the-state-is-taken"); // lands in that state
    proceed.countDown();
    // The fresh state replaces the entries when it lands, which may be after updates pushed
    // before it (a size reached early is no sign it has landed): wait for the server's entries
    // exactly; an update applied twice would keep them from ever being equal.
    List<String> expected = List.copyOf(root.scoreboard.entries);
    // A state that follows (the push made one due) may land while this looks, so each look is a
    // snapshot between two updates, not the list while a state replaces it.
    await().atMost(WAIT).until(() -> cache.snapshot().equals(expected));
    get(slow.rootObject().join().callRemote("echo", "sync"));
    assertThat(cache.snapshot()).doesNotHaveDuplicates().isEqualTo(expected);
  }

  @Test
  void slowClientIsDisconnectedWhenThePolicySaysSo() throws Exception {
    assumeTrue(transport() == TestTransport.TCP, "in-process channels never become unwritable");
    root.scoreboard.backpressure = Backpressure.disconnect(16);
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry()).onDisconnect((c, e) -> dropped.complete(e)));
    PbClient slow = client(server, b -> b.registry(Fixtures.registry()));
    get(slow.rootObject().join().callRemote("scoreboard"));
    RemoteObserver observer = pushAtStalledClient(slow);
    assertThat(observer.isObserving()).isFalse();
    assertThat(get(dropped)).hasMessageContaining("reads too slowly");
    assertThat(get(dropped).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    // the server goes on serving others
    assertThat(get(connect(server).callRemote("echo", "fine"))).isEqualTo("fine");
  }

  @Test
  void viewReceivesTheCallingPerspective() throws Exception {
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .onConnect(
                        c ->
                            ((io.pbj.internal.Connection) c)
                                .setPerspective("user-" + c.remoteAddress())));
    RemoteReference ref = connect(server);
    RemoteReference board = (RemoteReference) get(ref.callRemote("board"));
    CompletableFuture<Object> answer = board.callRemote("whoAmI", "!");
    String who = (String) get(answer);
    assertThat(who).startsWith("user-").endsWith("!");
    RemoteReference other = connect(server);
    RemoteReference otherBoard = (RemoteReference) get(other.callRemote("board"));
    assertThat(get(otherBoard.callRemote("whoAmI", "!"))).isNotEqualTo(who);
  }
}
