package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.booleans;
import static org.quicktheories.generators.SourceDSL.lists;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attacks on the opt-in direct mode ({@link Remote#direct()}, {@code directCompletions}): order
 * over random interleavings, blocking from a direct completion, cancellation, connection loss
 * and asynchronous direct methods.
 */
abstract class AbstractDirectModeAttackTest extends AbstractPbTest {
  private static final String CLIENT_LOOP = "pbj-client-io";

  private final ExecutorService app = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "attack-app");
    t.setDaemon(true);
    return t;
  });

  /** Records the order in which calls start; one method of each kind, plus asynchronous ones. */
  public static final class Recorder implements Referenceable {
    final List<Integer> starts = new CopyOnWriteArrayList<>();
    final CompletableFuture<String> pendingAnswer = new CompletableFuture<>();
    final CompletableFuture<Void> never = new CompletableFuture<>();

    @Remote(direct = true)
    public int direct(int i) {
      starts.add(i);
      return i;
    }

    @Remote
    public int ordinary(int i) {
      starts.add(i);
      return i;
    }

    /** A direct method whose answer comes later, from whatever thread completes it. */
    @Remote(direct = true)
    public CompletionStage<String> directLater() {
      return pendingAnswer;
    }

    /**
     * Calls back the client, whose reference is its argument, and blocks for the answer: on the
     * event loop, which would have to read that answer itself. Returns what the wait ended with.
     */
    @Remote(direct = true)
    public String directAsksBack(RemoteReference client) {
      try {
        return "answered " + client.callRemote(String.class, "ping").get();
      } catch (Throwable e) {
        return e.getClass().getSimpleName() + ": " + e.getMessage();
      }
    }

    /** Where it ran, and the state its cache argument had by then. */
    @Remote(direct = true)
    public String directCache(Fixtures.ScoreboardCache cache) {
      return Thread.currentThread().getName() + " " + cache.entries;
    }

    /** Never answers: keeps a call pending until the connection goes. */
    @Remote(direct = true)
    public CompletionStage<Void> directNever() {
      return never;
    }
  }

  /** A client-side object the server calls back. */
  public static final class Pinger implements Referenceable {
    @Remote
    public String ping() {
      return "pong";
    }
  }

  private final Recorder recorder = new Recorder();

  @AfterEach
  void stopApp() {
    app.shutdownNow();
  }

  private PbServer server() {
    return cleanup.register(
        serverBuilder().root(recorder).registry(Fixtures.registry()).executor(app).build().start());
  }

  private RemoteReference connect(PbServer server, boolean directCompletions) {
    PbClient.Builder b = clientBuilder(server).registry(Fixtures.registry()).executor(app);
    if (directCompletions) {
      b.directCompletions(true);
    }
    return cleanup.register(b.build()).rootObject().join();
  }

  @Test
  void randomInterleavingsOfDirectAndOrdinaryCallsStartAndCompleteInArrivalOrder() {
    RemoteReference ref = connect(server(), true);
    qt().withExamples(40)
        .forAll(lists().of(booleans().all()).ofSizeBetween(1, 300))
        .checkAssert(
            kinds -> {
              recorder.starts.clear();
              List<Integer> completed = new CopyOnWriteArrayList<>();
              List<CompletableFuture<Integer>> calls = new ArrayList<>();
              for (int i = 0; i < kinds.size(); i++) {
                int index = i;
                CompletableFuture<Integer> call =
                    ref.callRemote(Integer.class, kinds.get(i) ? "direct" : "ordinary", i);
                call.whenComplete((r, t) -> completed.add(t == null ? r : -1 - index));
                calls.add(call);
              }
              CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();
              List<Integer> expected = new ArrayList<>();
              for (int i = 0; i < kinds.size(); i++) {
                expected.add(i);
              }
              assertThat(recorder.starts).as("starts for %s", kinds)
                  .containsExactlyElementsOf(expected);
              // allOf may complete before the last callbacks have run: wait for them too
              org.awaitility.Awaitility.await().atMost(WAIT)
                  .until(() -> completed.size() == kinds.size());
              assertThat(completed).as("completions for %s", kinds)
                  .containsExactlyElementsOf(expected);
            });
  }

  @Test
  void getOnALaterCallFromADirectCompletionFailsFastRatherThanFreezingTheEventLoop()
      throws Exception {
    RemoteReference ref = connect(server(), true);
    AtomicReference<Throwable> fromCallback = new AtomicReference<>();
    CompletableFuture<String> callbackDone = new CompletableFuture<>();
    // answered only after the callback is chained, so the callback runs on the client's loop
    CompletableFuture<String> first = ref.callRemote(String.class, "directLater");
    first.whenComplete(
        (r, t) -> {
          String thread = Thread.currentThread().getName();
          try {
            ref.callRemote(Integer.class, "direct", 2).get();
          } catch (Throwable e) {
            fromCallback.set(e);
          }
          callbackDone.complete(thread);
        });
    recorder.pendingAnswer.complete("first");
    assertThat(get(callbackDone)).startsWith(CLIENT_LOOP);
    assertThat(fromCallback.get())
        .as("a get() on the event loop that must read its own answer fails at once")
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("event loop")
        .hasMessageContaining("direct");
    assertThat(get(ref.callRemote(Integer.class, "direct", 3)))
        .as("the connection goes on")
        .isEqualTo(3);
  }

  @Test
  void joinOnAFutureChainedOnALaterCallFromADirectCompletionFailsFastToo() throws Exception {
    RemoteReference ref = connect(server(), true);
    AtomicReference<Throwable> fromCallback = new AtomicReference<>();
    CompletableFuture<String> callbackDone = new CompletableFuture<>();
    CompletableFuture<String> first = ref.callRemote(String.class, "directLater");
    first.whenComplete(
        (r, t) -> {
          String thread = Thread.currentThread().getName();
          try {
            ref.callRemote(Integer.class, "direct", 2).thenApply(i -> i + 1).join();
          } catch (Throwable e) {
            fromCallback.set(e);
          }
          callbackDone.complete(thread);
        });
    recorder.pendingAnswer.complete("first");
    assertThat(get(callbackDone)).startsWith(CLIENT_LOOP);
    assertThat(fromCallback.get())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("event loop");
    assertThat(get(ref.callRemote(Integer.class, "direct", 3))).isEqualTo(3);
  }

  @Test
  void getFromADirectMethodOnACallBackToItsClientFailsFastRatherThanFreezingTheServerLoop()
      throws Exception {
    RemoteReference ref = connect(server(), false);
    String outcome = get(ref.callRemote(String.class, "directAsksBack", new Pinger()));
    assertThat(outcome)
        .startsWith("IllegalStateException")
        .contains("event loop")
        .contains("'ping'");
    assertThat(get(ref.callRemote(Integer.class, "direct", 4)))
        .as("the server's loop goes on")
        .isEqualTo(4);
  }

  @Test
  void directMethodWhoseArgumentIsACacheSeesItsStateAndEveryUpdateSentBefore()
      throws Exception {
    RemoteReference ref = connect(server(), false);
    Fixtures.Scoreboard board = new Fixtures.Scoreboard();
    board.entries.add("first");
    String outcome = get(ref.callRemote(String.class, "directCache", board));
    assertThat(outcome)
        .as("a new cache's state is set by user code, so the call runs off the loop")
        .startsWith("attack-app")
        .endsWith("[first]");
    for (int i = 0; i < 50; i++) {
      board.add("e" + i); // an update pushed to the server's cache before the call
      outcome = get(ref.callRemote(String.class, "directCache", board));
      assertThat(outcome).as("call %d", i).endsWith(board.entries.toString());
    }
  }

  @Test
  void cancelledCallWithDirectCompletionsCompletesOnceAsCancelled() throws Exception {
    RemoteReference ref = connect(server(), true);
    CompletableFuture<String> call = ref.callRemote(String.class, "directLater");
    AtomicInteger callbacks = new AtomicInteger();
    AtomicReference<Throwable> seen = new AtomicReference<>();
    call.whenComplete(
        (r, t) -> {
          callbacks.incrementAndGet();
          seen.set(t);
        });
    assertThat(call.cancel(true)).isTrue();
    recorder.pendingAnswer.complete("too late");
    // a later call's answer arrives after any answer to the cancelled one
    assertThat(get(ref.callRemote(Integer.class, "direct", 7))).isEqualTo(7);
    assertThat(callbacks).hasValue(1);
    assertThat(seen.get()).isInstanceOf(CancellationException.class);
  }

  @Test
  void pendingDirectCallsFailOnceWithConnectionLostWhenTheServerGoes() throws Exception {
    PbServer server = server();
    RemoteReference ref = connect(server, true);
    List<CompletableFuture<Void>> calls = new ArrayList<>();
    AtomicInteger callbacks = new AtomicInteger();
    for (int i = 0; i < 50; i++) {
      CompletableFuture<Void> call = ref.callRemote(Void.class, "directNever");
      call.whenComplete((r, t) -> callbacks.incrementAndGet());
      calls.add(call);
    }
    // every call has reached the server once a later one is answered
    assertThat(get(ref.callRemote(Integer.class, "direct", 1))).isEqualTo(1);
    server.close();
    for (CompletableFuture<Void> call : calls) {
      Throwable failure = failureOf(call);
      assertThat(failure).isInstanceOf(PbException.class);
      assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    }
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> callbacks.get() >= calls.size());
    assertThat(callbacks).hasValue(calls.size());
  }

  @Test
  void directMethodReturningAStageAnswersLaterAndDoesNotHoldLaterCalls() throws Exception {
    RemoteReference ref = connect(server(), false);
    CompletableFuture<String> later = ref.callRemote(String.class, "directLater");
    assertThat(get(ref.callRemote(Integer.class, "direct", 5))).isEqualTo(5);
    assertThat(get(ref.callRemote(Integer.class, "ordinary", 6))).isEqualTo(6);
    assertThat(later).isNotDone();
    app.execute(() -> recorder.pendingAnswer.complete("done"));
    assertThat(get(later)).isEqualTo("done");
  }
}
