package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pbj.Fixtures.ScoreboardCache;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

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

  @Test
  void hundredObserversSeeEveryUpdateInOrder() throws Exception {
    // a hundred clients from one address: over the default per-address cap
    PbServer server =
        startServer(b -> b.registry(Fixtures.registry()).maxConnectionsPerAddress(0));
    List<ScoreboardCache> caches = new ArrayList<>();
    RemoteReference poster = null;
    for (int i = 0; i < 100; i++) {
      RemoteReference ref = connect(server);
      caches.add((ScoreboardCache) get(ref.callRemote("scoreboard")));
      poster = ref;
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      expected.add("update-" + i);
    }
    for (String e : expected) {
      poster.callRemote("post", e);
    }
    get(poster.callRemote("echo", "sync"));
    for (ScoreboardCache cache : caches) {
      await().atMost(WAIT).until(() -> cache.entries.size() == expected.size());
      assertThat(cache.entries).isEqualTo(expected);
    }
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
