package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.ByteBuf;
import io.pbj.internal.FanoutTestAccess;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RemoteObserver#callRemoteAll} over every transport: one update to many observers, its
 * bytes encoded once and shared where no argument depends on the connection, per connection
 * where one does; every observer's order and backpressure as with {@code callRemote}; the shared
 * bytes released once every observer is done with them, whatever became of the observers.
 */
abstract class AbstractFanoutTest extends AbstractPbTest {
  private static final PbRegistry REGISTRY =
      PbRegistry.builder().registerCache(Feed.class, FeedCache.class).build();

  private final Feed feed = new Feed();
  private List<ByteBuf> sharedBodies;

  /** The server side: pushes items to every observer with callRemoteAll. */
  static final class Feed implements Cacheable {
    final CopyOnWriteArrayList<RemoteObserver> observers = new CopyOnWriteArrayList<>();

    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      observers.addIfAbsent(observer);
      return 0;
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {
      observers.remove(observer);
    }
  }

  /** The client side: records the items, checking each payload's bytes. */
  static final class FeedCache extends RemoteCache {
    final List<Integer> items = new CopyOnWriteArrayList<>();
    final List<String> broken = new CopyOnWriteArrayList<>();
    final List<RemoteReference> greeters = new CopyOnWriteArrayList<>();

    @Override
    protected void setState(Object state) {}

    @Remote
    public void item(int seq, byte[] payload) {
      received(seq, payload, payload(seq));
    }

    @Remote
    public void big(int seq, byte[] payload) {
      received(seq, payload, payload(2 * seq + 1));
    }

    private void received(int seq, byte[] payload, byte[] pushed) {
      if (!Arrays.equals(payload, pushed)) {
        broken.add("item " + seq + ": " + payload.length + " bytes, not the ones pushed");
      }
      items.add(seq);
    }

    @Remote
    public void greeter(RemoteReference greeter) {
      greeters.add(greeter);
    }
  }

  /** Offered in an update: a reference, exported to each connection on its own. */
  static final class Greeter implements Referenceable {
    @Remote
    public String greet(String who) {
      return "hello " + who;
    }
  }

  /** The root each connection gets. */
  static final class FeedRoot implements Referenceable {
    private final Feed feed;

    FeedRoot(Feed feed) {
      this.feed = feed;
    }

    @Remote
    public Feed feed() {
      return feed;
    }

    @Remote
    public Greeter greeter() {
      return new Greeter();
    }
  }

  /** Frames of the server's connections: the large payloads take several. */
  private static final int MAX_FRAME = 2048;

  /**
   * Item {@code seq}'s payload: small (one frame, shared by every observer) or large (several
   * frames, each observer's header before the shared body), by turns.
   */
  static byte[] payload(int seq) {
    byte[] b = new byte[seq % 2 == 0 ? 100 : 2 * MAX_FRAME];
    Arrays.fill(b, (byte) seq);
    return b;
  }

  @BeforeEach
  void trackSharedBodies() {
    sharedBodies = FanoutTestAccess.trackSharedBodies();
  }

  @AfterEach
  void stopTracking() {
    FanoutTestAccess.stopTracking();
  }

  private PbServer startFeedServer() {
    return cleanup.register(
        serverBuilder()
            .root(new FeedRoot(feed))
            .registry(REGISTRY)
            .maxConnectionsPerAddress(0)
            .maxFrameSize(MAX_FRAME)
            .build()
            .start());
  }

  private FeedCache observe(PbClient client) throws Exception {
    return (FeedCache) get(get(client.rootObject()).callRemote("feed"));
  }

  private List<PbClient> clients(PbServer server, int n) {
    List<PbClient> clients = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      clients.add(client(server, b -> b.registry(REGISTRY)));
    }
    return clients;
  }

  private List<FeedCache> observeAll(List<PbClient> clients) throws Exception {
    List<FeedCache> caches = new ArrayList<>();
    for (PbClient c : clients) {
      caches.add(observe(c));
    }
    assertThat(feed.observers).hasSize(clients.size());
    return caches;
  }

  private static List<Integer> upTo(int n) {
    return IntStream.range(0, n).boxed().toList();
  }

  private void awaitAllReleased() {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> assertThat(sharedBodies).allSatisfy(b -> assertThat(b.refCnt()).isZero()));
  }

  @Test
  void everyObserverGetsEveryUpdateInOrderFromOneSharedEncodingEach() throws Exception {
    PbServer server = startFeedServer();
    List<FeedCache> caches = observeAll(clients(server, 5));
    // one at a time, each written at once to every observer: one encode for all five, and one
    // frame (the connections gave the feed the same id) if the update fits one
    int calm = 20;
    for (int seq = 0; seq < calm; seq++) {
      RemoteObserver.callRemoteAll(feed.observers, "item", seq, payload(seq));
      int delivered = seq + 1;
      for (FeedCache cache : caches) {
        await().atMost(WAIT).until(() -> cache.items.size() == delivered);
      }
      awaitAllReleased();
    }
    assertThat(sharedBodies).hasSize(calm + calm / 2);
    // then a burst: updates that find an observer's channel full wait in its queue, and are
    // encoded for that connection when it drains
    int n = calm + 300;
    for (int seq = calm; seq < n; seq++) {
      RemoteObserver.callRemoteAll(feed.observers, "item", seq, payload(seq));
    }
    for (FeedCache cache : caches) {
      await().atMost(WAIT).until(() -> cache.items.size() == n);
      assertThat(cache.items).isEqualTo(upTo(n));
      assertThat(cache.broken).isEmpty();
    }
    assertThat(sharedBodies).hasSizeLessThanOrEqualTo(n + n / 2);
    awaitAllReleased();
  }

  @Test
  void observersThatKnowTheCacheUnderDifferentIdsGetAFrameEach() throws Exception {
    PbServer server = startFeedServer();
    List<PbClient> clients = clients(server, 4);
    // the first client is given another object first, so its feed has another id
    RemoteReference greeter = (RemoteReference) get(get(clients.get(0).rootObject()).callRemote("greeter"));
    List<FeedCache> caches = observeAll(clients);
    RemoteObserver.callRemoteAll(feed.observers, "item", 0, payload(0));
    for (FeedCache cache : caches) {
      await().atMost(WAIT).until(() -> cache.items.size() == 1);
      assertThat(cache.items).containsExactly(0);
      assertThat(cache.broken).isEmpty();
    }
    assertThat(sharedBodies).hasSize(3); // one body, a frame for each of the two ids
    awaitAllReleased();
    assertThat(get(greeter.callRemote("greet", "again"))).isEqualTo("hello again");
  }

  @Test
  void anUpdateWithAReferenceIsEncodedPerConnectionAndResolvesOnEachClient() throws Exception {
    PbServer server = startFeedServer();
    List<PbClient> clients = clients(server, 3);
    List<FeedCache> caches = observeAll(clients);
    RemoteObserver.callRemoteAll(feed.observers, "greeter", new Greeter());
    for (int i = 0; i < caches.size(); i++) {
      FeedCache cache = caches.get(i);
      await().atMost(WAIT).until(() -> cache.greeters.size() == 1);
      RemoteReference greeter = cache.greeters.get(0);
      assertThat(get(greeter.callRemote("greet", "client " + i))).isEqualTo("hello client " + i);
    }
    assertThat(sharedBodies).isEmpty(); // nothing shared: the bytes differ per connection
  }

  @Test
  void anUnencodableUpdateThrowsAndReachesNobody() throws Exception {
    PbServer server = startFeedServer();
    List<FeedCache> caches = observeAll(clients(server, 3));
    assertThatThrownBy(() -> RemoteObserver.callRemoteAll(feed.observers, "item", 0, new Object()))
        .isInstanceOfSatisfying(
            PbException.class, e -> assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE));
    RemoteObserver.callRemoteAll(feed.observers, "item", 1, payload(1));
    for (FeedCache cache : caches) {
      await().atMost(WAIT).until(() -> cache.items.size() == 1);
      assertThat(cache.items).containsExactly(1);
    }
    awaitAllReleased();
  }

  @Test
  void aStoppedObserverIsSkippedAndTheOthersGetTheUpdate() throws Exception {
    PbServer server = startFeedServer();
    List<FeedCache> caches = observeAll(clients(server, 3));
    List<RemoteObserver> all = List.copyOf(feed.observers);
    caches.get(0).release();
    await().atMost(WAIT).until(() -> !all.get(0).isObserving());
    RemoteObserver.callRemoteAll(all, "item", 0, payload(0));
    for (FeedCache cache : caches.subList(1, 3)) {
      await().atMost(WAIT).until(() -> cache.items.size() == 1);
    }
    assertThat(caches.get(0).items).isEmpty();
    awaitAllReleased();
  }

  /**
   * Observers in a fixed order; before the {@code closeAt}-th update is handed to the observer
   * at {@code closeIndex}, that observer's connection is closed: a disconnect in mid fan-out.
   */
  private static Iterable<RemoteObserver> closingMidway(
      List<RemoteObserver> observers, int closeIndex, boolean close) {
    return () ->
        new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < observers.size();
          }

          @Override
          public RemoteObserver next() {
            RemoteObserver o = observers.get(next);
            if (close && next == closeIndex) {
              o.connection().close();
            }
            next++;
            return o;
          }
        };
  }

  @Test
  void sharedBytesAreReleasedOnceWhenOneObserverIsSlowAndAnotherDisconnectsMidFanOut()
      throws Exception {
    assumeTrue(transport() == TestTransport.TCP, "in-process channels never become unwritable");
    PbServer server = startFeedServer();
    List<PbClient> clients = clients(server, 3);
    List<FeedCache> caches = observeAll(clients);
    List<RemoteObserver> observers = List.copyOf(feed.observers); // in the order of the caches
    io.pbj.internal.Connection slow = (io.pbj.internal.Connection) get(clients.get(1).connection());
    slow.channel().config().setAutoRead(false);
    // large updates, so that the slow one's channel fills and its updates wait in its queue
    int n = 400;
    int closeAt = 150;
    int queuedMax = 0;
    for (int seq = 0; seq < n; seq++) {
      byte[] big = payload(2 * seq + 1);
      RemoteObserver.callRemoteAll(closingMidway(observers, 2, seq == closeAt), "big", seq, big);
      queuedMax = Math.max(queuedMax, observers.get(1).queuedUpdates());
    }
    assertThat(queuedMax).as("the slow observer's queue").isPositive();
    FeedCache fast = caches.get(0);
    await().atMost(WAIT).until(() -> fast.items.size() == n);
    assertThat(fast.items).isEqualTo(upTo(n));
    await().atMost(WAIT).until(() -> !observers.get(2).isObserving());
    assertThat(caches.get(2).items.size()).isLessThanOrEqualTo(closeAt);
    slow.channel().config().setAutoRead(true);
    slow.channel().read();
    FeedCache slowCache = caches.get(1);
    await().atMost(WAIT).until(() -> slowCache.items.size() == n);
    assertThat(slowCache.items).isEqualTo(upTo(n));
    assertThat(fast.broken).isEmpty();
    assertThat(slowCache.broken).isEmpty();
    assertThat(sharedBodies).isNotEmpty().hasSizeLessThanOrEqualTo(n); // large: bodies only
    awaitAllReleased();
  }
}
