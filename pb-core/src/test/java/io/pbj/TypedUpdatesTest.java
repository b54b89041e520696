package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Typed, checked Cacheable updates over real in-process connections: {@link ObserverSet} and
 * {@link RemoteObserver#as}, failed pushes reported back to the pushing side ({@link
 * BrokerBuilder#onUpdateFailure}), and {@link RemoteCache#onUpdateApplied} listeners.
 */
class TypedUpdatesTest extends AbstractPbTest {

  /** The updates a {@link TallyCache} accepts. */
  interface TallyApi {
    void scored(String player, int points);

    CompletableFuture<Void> reset();
  }

  /** A method the cache does not have. */
  interface Misspelled {
    void scroed(String player, int points);
  }

  /** A method the cache has, with a parameter it cannot take. */
  interface WrongTypes {
    void scored(String player, String points);
  }

  /** Not an update interface: updates have no answer. */
  interface Answers {
    CompletableFuture<Integer> scored(String player, int points);
  }

  /** Two updates of one name: the receiver could not tell them apart. */
  interface Overloaded {
    void scored(String player, int points);

    @Remote("scored")
    void scoredTwice(String player, int points);
  }

  /** The server side: scores per player, pushed through an {@link ObserverSet}. */
  static final class Tally implements Cacheable {
    final Map<String, Integer> scores = new HashMap<>();
    final ObserverSet<TallyApi> observers = ObserverSet.of(TallyApi.class);
    final List<RemoteObserver> seen = new CopyOnWriteArrayList<>();

    @Override
    public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
      observers.add(observer);
      seen.add(observer);
      return new HashMap<>(scores);
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {
      observers.remove(observer);
    }

    synchronized void score(String player, int points) {
      scores.merge(player, points, Integer::sum);
      observers.all().scored(player, points);
    }

    /** An update by name, as code without a typed view would push it. */
    synchronized void pushByName(String method, Object... args) {
      observers.forEach((o, view) -> o.callRemote(method, args));
    }

    synchronized List<CompletableFuture<Void>> pushByNameAndWatch(String method, Object... args) {
      List<CompletableFuture<Void>> pushed = new ArrayList<>();
      observers.forEach((o, view) -> pushed.add(o.callRemote(method, args)));
      return pushed;
    }
  }

  /** The client side. */
  public static final class TallyCache extends RemoteCache implements TallyApi {
    final Map<String, Integer> scores = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    @SuppressWarnings("unchecked")
    protected void setState(Object state) {
      scores.clear();
      scores.putAll((Map<String, Integer>) state);
    }

    @Override
    @Remote
    public void scored(String player, int points) {
      scores.merge(player, points, Integer::sum);
    }

    @Override
    @Remote
    public CompletableFuture<Void> reset() {
      scores.clear();
      return null;
    }

    @Remote
    public void explode(String why) {
      throw new IllegalStateException("exploded: " + why);
    }
  }

  /** The server's root: hands out the tally. */
  public static final class TallyRoot implements Referenceable {
    final Tally tally = new Tally();

    @Remote
    public Tally tally() {
      return tally;
    }
  }

  /** A value only the server registers: the client cannot decode it. */
  record ServerOnly(String secret) {}

  static PbRegistry registry() {
    return PbRegistry.builder()
        .registerCache(Tally.class, TallyCache.class)
        .build();
  }

  private final TallyRoot tallyRoot = new TallyRoot();
  private final BlockingQueue<UpdateFailure> failures = new LinkedBlockingQueue<>();
  private final ExecutorService clientExecutor =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, "client-executor");
            t.setDaemon(true);
            return t;
          });

  @AfterEach
  void stopExecutor() {
    clientExecutor.shutdownNow();
  }

  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  private TallyCache connectTally() throws Exception {
    return connectTally(registry());
  }

  private TallyCache connectTally(PbRegistry serverRegistry) throws Exception {
    PbServer server =
        cleanup.register(
            serverBuilder()
                .root(tallyRoot)
                .registry(serverRegistry)
                .onUpdateFailure(failures::add)
                .build()
                .start());
    PbClient client =
        client(server, b -> b.registry(registry()).executor(clientExecutor));
    RemoteReference root = get(client.rootObject());
    return (TallyCache) get(root.callRemote("tally"));
  }

  private UpdateFailure nextFailure() throws InterruptedException {
    UpdateFailure f = failures.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(f).as("an update failure reported to the server").isNotNull();
    return f;
  }

  @Test
  void typedPushesRunTheCachesUpdateMethods() throws Exception {
    TallyCache cache = connectTally();
    tallyRoot.tally.score("ann", 3);
    tallyRoot.tally.score("bob", 2);
    tallyRoot.tally.score("ann", 4);
    await().atMost(WAIT).until(() -> cache.scores.size() == 2 && cache.scores.get("ann") == 7);
    assertThat(cache.scores).isEqualTo(Map.of("ann", 7, "bob", 2));
    get(tallyRoot.tally.observers.all().reset());
    await().atMost(WAIT).until(cache.scores::isEmpty);
    assertThat(failures).isEmpty();
  }

  @Test
  void misspelledUpdateIsReportedToTheServerListener() throws Exception {
    TallyCache cache = connectTally();
    tallyRoot.tally.pushByName("scroed", "ann", 3);

    UpdateFailure f = nextFailure();
    assertThat(f.method()).isEqualTo("scroed");
    assertThat(f.code()).isEqualTo(PbException.Code.NO_SUCH_METHOD);
    assertThat(f.cacheable()).isSameAs(tallyRoot.tally);
    assertThat(f.detail()).contains(TallyCache.class.getName()).contains("'scroed'");
    RemoteObserver observer = tallyRoot.tally.seen.get(0);
    assertThat(f.connection()).isSameAs(observer.connection());
    assertThat(observer.connection().stats().updateFailures()).isEqualTo(1);

    // the connection goes on: the next update applies
    tallyRoot.tally.score("ann", 3);
    await().atMost(WAIT).until(() -> Integer.valueOf(3).equals(cache.scores.get("ann")));
    assertThat(observer.connection().stats().updateFailures()).isEqualTo(1);
  }

  @Test
  void badArgumentsAndAThrowingUpdateAreReportedWithTheirCodes() throws Exception {
    connectTally();
    tallyRoot.tally.pushByName("scored", "ann", "three");
    UpdateFailure bad = nextFailure();
    assertThat(bad.method()).isEqualTo("scored");
    assertThat(bad.code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
    assertThat(bad.detail()).contains("argument 1").contains("java.lang.String");

    tallyRoot.tally.pushByName("explode", "on purpose");
    UpdateFailure threw = nextFailure();
    assertThat(threw.method()).isEqualTo("explode");
    assertThat(threw.code()).isEqualTo(PbException.Code.REMOTE_FAILURE);
    assertThat(threw.detail()).contains("exploded: on purpose");
  }

  @Test
  void anUpdateWithAValueTheClientDoesNotShareFailsOnTheServerAndTheNextStillApplies()
      throws Exception {
    // Since the handshake compares registries, a value of a type only the server registered is
    // refused before a byte is written (the client could not decode it): the push's future fails
    // naming the type, and the client has nothing to report.
    TallyCache cache =
        connectTally(registry().toBuilder().register(ServerOnly.class).build());
    List<CompletableFuture<Void>> pushed =
        tallyRoot.tally.pushByNameAndWatch("scored", new ServerOnly("x"), 1);
    assertThat(pushed).hasSize(1);
    assertThatThrownBy(() -> pushed.get(0).get(WAIT.toMillis(), TimeUnit.MILLISECONDS))
        .hasCauseInstanceOf(PbException.class)
        .satisfies(e -> {
          PbException cause = (PbException) e.getCause();
          assertThat(cause.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
          assertThat(cause.getMessage()).contains(ServerOnly.class.getName());
        });
    tallyRoot.tally.score("ann", 2);
    await().atMost(WAIT).until(() -> Integer.valueOf(2).equals(cache.scores.get("ann")));
    assertThat(failures).isEmpty();
  }

  @Test
  void typedViewRefusesAMethodTheCacheCannotHave() throws Exception {
    connectTally();
    RemoteObserver observer = tallyRoot.tally.seen.get(0);

    assertThatThrownBy(() -> observer.as(Misspelled.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Misspelled.scroed")
        .hasMessageContaining(TallyCache.class.getName() + " has no @Remote update method 'scroed'");
    assertThatThrownBy(() -> observer.as(WrongTypes.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("WrongTypes.scored parameter 1 is a java.lang.String")
        .hasMessageContaining("takes a int");
    assertThatThrownBy(() -> ObserverSet.of(Answers.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Answers.scored returns")
        .hasMessageContaining("CompletableFuture<Void>");
    assertThatThrownBy(() -> ObserverSet.of(Overloaded.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("more than one update method is named 'scored'");
    assertThatThrownBy(() -> ObserverSet.of(Tally.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not an interface");

    // a set refuses to add an observer its interface does not fit, and stays empty
    ObserverSet<Misspelled> set = ObserverSet.of(Misspelled.class);
    assertThatThrownBy(() -> set.add(observer)).isInstanceOf(IllegalArgumentException.class);
    assertThat(set.isEmpty()).isTrue();
    // nothing was pushed by any of this
    assertThat(observer.connection().stats().updateFailures()).isZero();
    assertThat(failures).isEmpty();
  }

  @Test
  void updateListenersSeeEveryAppliedUpdateInOrderOnTheClientExecutor() throws Exception {
    TallyCache cache = connectTally();
    List<String> seen = new CopyOnWriteArrayList<>();
    List<String> threads = new CopyOnWriteArrayList<>();
    cache.onUpdateApplied(
        u -> {
          seen.add(u.method() + u.args() + (u.wholeState() ? "!" : ""));
          threads.add(Thread.currentThread().getName());
        });
    AtomicInteger second = new AtomicInteger();
    cache.onUpdateApplied(u -> second.incrementAndGet());

    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      tallyRoot.tally.score("p" + (i % 7), i);
      expected.add("scored[p" + (i % 7) + ", " + i + "]");
      if (i % 100 == 50) {
        tallyRoot.tally.pushByName("scroed", "x", 1); // fails there: not applied, not listed
      }
    }
    get(tallyRoot.tally.observers.all().reset());
    expected.add("reset[]");

    await().atMost(WAIT).until(() -> seen.size() == expected.size());
    assertThat(seen).isEqualTo(expected);
    assertThat(second).hasValue(expected.size());
    assertThat(threads).allMatch("client-executor"::equals);
    for (int i = 0; i < 3; i++) {
      assertThat(nextFailure().method()).isEqualTo("scroed");
    }
  }

  @Test
  void aThrowingListenerDoesNotStopTheOthersOrTheUpdate() throws Exception {
    TallyCache cache = connectTally();
    List<String> seen = new CopyOnWriteArrayList<>();
    cache.onUpdateApplied(
        u -> {
          throw new IllegalStateException("listener broke");
        });
    cache.onUpdateApplied(u -> seen.add(u.method()));
    tallyRoot.tally.score("ann", 1);
    await().atMost(WAIT).until(() -> seen.size() == 1);
    assertThat(cache.scores).containsEntry("ann", 1);
    assertThat(failures).isEmpty(); // the update applied: nothing to report
  }

  @Test
  void releasedObserversLeaveTheSet() throws Exception {
    TallyCache cache = connectTally();
    assertThat(tallyRoot.tally.observers.size()).isEqualTo(1);
    cache.release();
    await().atMost(WAIT).until(tallyRoot.tally.observers::isEmpty);
    tallyRoot.tally.score("ann", 1); // reaches nobody, breaks nothing
    assertThat(failures).isEmpty();
  }
}
