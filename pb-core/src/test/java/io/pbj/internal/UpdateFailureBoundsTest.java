package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.Cacheable;
import io.pbj.ObserverSet;
import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteCache;
import io.pbj.RemoteObserver;
import io.pbj.RemoteReference;
import io.pbj.UpdateFailure;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A hostile client's UPDATE_FAILED notices, over a real in-process connection: the client forges
 * notices for pushes that did not fail. Whatever it sends, the server accepts at most one per push
 * it sent, reads none larger than {@link Wire#MAX_NOTICE}, and hands at most {@link
 * UpdateFailures#MAX_PENDING} at a time to its listener.
 */
@Timeout(60)
class UpdateFailureBoundsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** The updates a {@link FeedCache} accepts. */
  public interface FeedApi {
    void posted(String text);
  }

  public static final class Feed implements Cacheable {
    final ObserverSet<FeedApi> observers = ObserverSet.of(FeedApi.class);
    final List<RemoteObserver> seen = new CopyOnWriteArrayList<>();

    @Override
    public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
      observers.add(observer);
      seen.add(observer);
      return "state";
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {
      observers.remove(observer);
    }

    synchronized void post(String text) {
      observers.all().posted(text);
    }
  }

  public static final class FeedCache extends RemoteCache implements FeedApi {
    @Override
    protected void setState(Object state) {}

    @Override
    @Remote
    public void posted(String text) {}
  }

  public static final class FeedRoot implements Referenceable {
    final Feed feed = new Feed();

    @Remote
    public Feed feed() {
      return feed;
    }
  }

  private static PbRegistry registry() {
    return PbRegistry.builder().registerCache(Feed.class, FeedCache.class).build();
  }

  private final FeedRoot root = new FeedRoot();
  private Connection client;
  private FeedCache cache;
  private final AtomicInteger applied = new AtomicInteger();

  private void connect(Consumer<UpdateFailure> listener) throws Exception {
    String name = "pbj-test-" + UUID.randomUUID();
    cleanup.register(
        PbServer.builder()
            .inProcess(name)
            .root(root)
            .registry(registry())
            .onUpdateFailure(listener)
            .build()
            .start());
    PbClient c = cleanup.register(PbClient.builder().inProcess(name).registry(registry()).build());
    RemoteReference ref = c.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    cache = (FeedCache) ref.callRemote("feed").get(WAIT.toSeconds(), TimeUnit.SECONDS);
    cache.onUpdateApplied(u -> applied.incrementAndGet());
    client = (Connection) c.connection().get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  /** The server pushes {@code n} updates, and the client applies them all (none fails). */
  private void push(int n) {
    int before = applied.get();
    for (int i = 0; i < n; i++) {
      root.feed.post("post-" + i);
    }
    await().atMost(WAIT).until(() -> applied.get() == before + n);
  }

  /** The hostile client reports a failure of a push that did not fail. */
  private void forge(String method, String detail) {
    client.send(
        new Message.UpdateFailed(CacheHandle.of(cache).id, method, "NO_SUCH_METHOD", detail));
  }

  private PbConnection serverSide() {
    return root.feed.seen.get(0).connection();
  }

  private PbException closeCause() throws Exception {
    CompletableFuture<PbException> closed = new CompletableFuture<>();
    client.onClose(closed::complete);
    return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void noticesBeyondOnePerPushCloseTheConnection() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    push(3);
    for (int i = 0; i < 3; i++) {
      forge("forged-" + i, "not really");
    }
    await().atMost(WAIT).until(() -> reported.size() == 3);
    assertThat(serverSide().stats().updateFailures()).isEqualTo(3);
    assertThat(serverSide().isOpen()).isTrue();

    forge("one-too-many", "not really");
    assertThat(closeCause().getMessage())
        .contains("reported 4 failed cache updates, but was sent only 3");
    assertThat(reported).extracting(UpdateFailure::method)
        .containsExactly("forged-0", "forged-1", "forged-2");
    assertThat(serverSide().stats().updateFailures()).isEqualTo(3);
  }

  @Test
  void controlCharactersAndAnUnknownCodeInANoticeReachTheListenerDefused() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    push(1);
    client.send(
        new Message.UpdateFailed(
            CacheHandle.of(cache).id, "m\r\nINFO fake\u0000", "NOT_A_CODE\n", "d\u001b[31m\u0085"));
    await().atMost(WAIT).until(() -> reported.size() == 1);
    UpdateFailure f = reported.get(0);
    assertThat(f.method()).isEqualTo("m??INFO fake?");
    assertThat(f.detail()).isEqualTo("d?[31m?");
    assertThat(f.code()).isEqualTo(PbException.Code.REMOTE_FAILURE);
    assertThat(serverSide().isOpen()).isTrue();
  }

  @Test
  void aNoticeForAnIdThatIsNoCacheIsDroppedButCountsAgainstTheAllowance() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    push(1);
    client.send(new Message.UpdateFailed(0, "root", "NO_SUCH_METHOD", "the root is no cache"));
    client.send(new Message.UpdateFailed(123_456, "nothing", "NO_SUCH_METHOD", "no such id"));
    assertThat(closeCause().getMessage())
        .contains("reported 2 failed cache updates, but was sent only 1");
    assertThat(reported).isEmpty();
  }

  /**
   * Line and paragraph separators and bidi overrides are not ISO controls, but a log viewer
   * breaks lines or reverses text on them: a peer's notice could forge a log line with them.
   */
  @Test
  void unicodeLineSeparatorsAndBidiOverridesInANoticeAreDefusedToo() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    push(1);
    forge("m\u2028INFO fake", "d\u202Eevil");
    await().atMost(WAIT).until(() -> reported.size() == 1);
    assertThat(reported.get(0).method()).isEqualTo("m?INFO fake");
    assertThat(reported.get(0).detail()).isEqualTo("d?evil");
  }

  @Test
  void aNoticeBeforeAnyPushClosesTheConnection() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    forge("never-pushed", "not really");
    assertThat(closeCause().getMessage())
        .contains("reported 1 failed cache updates, but was sent only 0");
    assertThat(reported).isEmpty();
  }

  @Test
  void anOversizedNoticeClosesTheConnectionBeforeItIsRead() throws Exception {
    List<UpdateFailure> reported = new CopyOnWriteArrayList<>();
    connect(reported::add);
    push(1);
    forge("big", "x".repeat(Wire.MAX_NOTICE));
    assertThat(closeCause().getMessage())
        .contains("UPDATE_FAILED notice of")
        .contains("over the limit of " + Wire.MAX_NOTICE);
    assertThat(reported).isEmpty();
    assertThat(serverSide().stats().updateFailures()).isZero();
  }

  @Test
  void aFloodOfNoticesReachesABusyListenerAtMostMaxPendingAtATime() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    List<String> delivered = new CopyOnWriteArrayList<>();
    connect(
        f -> {
          delivered.add(f.method());
          try {
            release.await(WAIT.toSeconds(), TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    int flood = 4 * UpdateFailures.MAX_PENDING;
    push(flood);
    for (int i = 0; i < flood; i++) {
      forge("flood-" + i, "not really");
    }
    // every notice is counted, while the listener holds the first
    await().atMost(WAIT).until(() -> serverSide().stats().updateFailures() == flood);
    assertThat(delivered).containsExactly("flood-0");
    release.countDown();

    // one more after the flood: once it is delivered, everything accepted before it was
    push(1);
    forge("after", "not really");
    await().atMost(WAIT).until(() -> delivered.contains("after"));
    assertThat(delivered).hasSize(UpdateFailures.MAX_PENDING + 1);
    assertThat(delivered.subList(0, UpdateFailures.MAX_PENDING))
        .isEqualTo(
            java.util.stream.IntStream.range(0, UpdateFailures.MAX_PENDING)
                .mapToObj(i -> "flood-" + i)
                .toList());
    assertThat(serverSide().stats().updateFailures()).isEqualTo(flood + 1);
    assertThat(serverSide().isOpen()).isTrue();
  }
}
