package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The opt-in direct mode: {@link Remote#direct()} methods run on the server's event loop, and
 * {@code directCompletions(true)} completes call futures on the client's; without them, nothing
 * runs there. Either way calls start, and complete, in arrival order per connection.
 */
abstract class AbstractDirectModeTest extends AbstractPbTest {
  private static final String SERVER_LOOP = "pbj-server-io";
  private static final String CLIENT_LOOP = "pbj-client-io";
  private static final String APP = "app-thread";
  private static final int CALLS = 500;

  private final AtomicInteger threads = new AtomicInteger();
  private final ExecutorService app =
      Executors.newCachedThreadPool(
          r -> {
            Thread t = new Thread(r, APP + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
          });

  /** A root with direct and ordinary methods that record where and in what order they ran. */
  public static final class DirectRoot implements Referenceable {
    final List<String> order = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();
    final CountDownLatch slowStarted = new CountDownLatch(1);
    final CountDownLatch releaseSlow = new CountDownLatch(1);

    @Remote(direct = true)
    public String directThread() {
      return Thread.currentThread().getName();
    }

    @Remote
    public String ordinaryThread() {
      return Thread.currentThread().getName();
    }

    @Remote(direct = true)
    public String directFail(String why) {
      throw new IllegalStateException("direct method failed: " + why);
    }

    @Remote(direct = true)
    public int directRecord(int i) {
      order.add("d" + i);
      threads.add(Thread.currentThread().getName());
      return i;
    }

    @Remote
    public int ordinaryRecord(int i) {
      order.add("o" + i);
      threads.add(Thread.currentThread().getName());
      return i;
    }

    /** Blocks its executor thread until the test releases it. */
    @Remote
    public String slow() throws InterruptedException {
      order.add("slow-start");
      slowStarted.countDown();
      releaseSlow.await(WAIT.toSeconds(), TimeUnit.SECONDS);
      order.add("slow-end");
      return "slow";
    }

    /** Answers after the test releases the slow call, from the thread that ran it. */
    @Remote
    public String afterSlow() throws InterruptedException {
      releaseSlow.await(WAIT.toSeconds(), TimeUnit.SECONDS);
      return "later";
    }
  }

  private final DirectRoot direct = new DirectRoot();

  @AfterEach
  void stopApp() {
    app.shutdownNow();
  }

  private PbServer server() {
    return cleanup.register(serverBuilder().root(direct).executor(app).build().start());
  }

  private RemoteReference connect(PbServer server, boolean directCompletions) {
    PbClient.Builder b = clientBuilder(server).executor(app);
    if (directCompletions) {
      b.directCompletions(true);
    }
    return cleanup.register(b.build()).rootObject().join();
  }

  @Test
  void directMethodRunsOnTheServersEventLoop() throws Exception {
    RemoteReference ref = connect(server(), false);
    // A direct call runs on the loop when the connection's call sequence is idle; right after
    // connecting, the root's creation or the answer of a call before may still hold it (then
    // the call runs on the executor, as documented). It must reach the loop once it is idle.
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(get(ref.callRemote(String.class, "directThread")))
                    .startsWith(SERVER_LOOP));
  }

  @Test
  void ordinaryMethodsNeverRunOnTheEventLoop() throws Exception {
    RemoteReference ref = connect(server(), false);
    List<CompletableFuture<String>> calls = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      calls.add(ref.callRemote(String.class, "ordinaryThread"));
    }
    for (CompletableFuture<String> call : calls) {
      assertThat(get(call)).startsWith(APP);
    }
  }

  @Test
  void directMethodThatThrowsStillAnswersWithTheError() throws Exception {
    RemoteReference ref = connect(server(), false);
    Throwable failure = failureOf(ref.callRemote("directFail", "on purpose"));
    assertThat(failure)
        .isInstanceOf(PbRemoteException.class)
        .hasMessageContaining("IllegalStateException")
        .hasMessageContaining("direct method failed: on purpose");
    assertThat(get(ref.callRemote(String.class, "directThread")))
        .as("the connection and its event loop go on")
        .startsWith(SERVER_LOOP);
  }

  @Test
  void directCallWaitsItsTurnBehindAnEarlierCallStillRunning() throws Exception {
    PbServer server = server();
    RemoteReference ref = connect(server, false);
    CompletableFuture<String> slow = ref.callRemote(String.class, "slow");
    assertThat(direct.slowStarted.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
    long received = serverConnection(server).stats().messagesReceived();
    CompletableFuture<Integer> after = ref.callRemote(Integer.class, "directRecord", 1);
    await().atMost(WAIT)
        .until(() -> serverConnection(server).stats().messagesReceived() > received);
    assertThat(direct.order).as("the direct call has not overtaken the slow one")
        .containsExactly("slow-start");

    direct.releaseSlow.countDown();
    assertThat(get(slow)).isEqualTo("slow");
    assertThat(get(after)).isEqualTo(1);
    assertThat(direct.order).containsExactly("slow-start", "slow-end", "d1");
    assertThat(direct.threads).as("it waited its turn on the executor").allMatch(
        name -> name.startsWith(APP));
  }

  @Test
  void directAndOrdinaryCallsStartInArrivalOrder() throws Exception {
    RemoteReference ref = connect(server(), false);
    List<CompletableFuture<Integer>> calls = new ArrayList<>();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      boolean isDirect = i % 3 != 0;
      calls.add(ref.callRemote(Integer.class, isDirect ? "directRecord" : "ordinaryRecord", i));
      expected.add((isDirect ? "d" : "o") + i);
    }
    for (int i = 0; i < CALLS; i++) {
      assertThat(get(calls.get(i))).isEqualTo(i);
    }
    assertThat(direct.order).containsExactlyElementsOf(expected);
    for (int i = 0; i < CALLS; i++) {
      if (i % 3 == 0) {
        assertThat(direct.threads.get(i)).as("ordinary call %d", i).startsWith(APP);
      }
    }
  }

  @Test
  void directCompletionsRunCallbacksOnTheClientsEventLoop() throws Exception {
    RemoteReference ref = connect(server(), true);
    CompletableFuture<String> answer = ref.callRemote(String.class, "afterSlow");
    CompletableFuture<String> callbackThread =
        answer.thenApply(ignored -> Thread.currentThread().getName());
    direct.releaseSlow.countDown();
    assertThat(get(callbackThread)).startsWith(CLIENT_LOOP);
  }

  @Test
  void defaultCompletionsNeverRunOnTheEventLoop() throws Exception {
    RemoteReference ref = connect(server(), false);
    List<CompletableFuture<String>> callbacks = new ArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      callbacks.add(
          ref.callRemote(String.class, "directThread")
              .thenApply(ignored -> Thread.currentThread().getName()));
    }
    for (CompletableFuture<String> callback : callbacks) {
      assertThat(get(callback)).doesNotStartWith(CLIENT_LOOP).doesNotStartWith(SERVER_LOOP);
    }
  }

  @Test
  void directCompletionsRunInArrivalOrder() throws Exception {
    RemoteReference ref = connect(server(), true);
    List<Integer> completed = new CopyOnWriteArrayList<>();
    for (int i = 0; i < CALLS; i++) {
      int index = i;
      // nobody calls get() on these: a thread in get() may help run a future's callbacks itself
      ref.callRemote(Integer.class, i % 2 == 0 ? "directRecord" : "ordinaryRecord", i)
          .whenComplete((r, t) -> completed.add(t == null ? r : -1 - index));
    }
    await().atMost(WAIT).until(() -> completed.size() == CALLS);
    for (int i = 0; i < CALLS; i++) {
      assertThat(completed.get(i)).as("completion %d", i).isEqualTo(i);
    }
  }

  @Test
  void directCompletionsStillHandTheAnswerToABlockedCaller() throws Exception {
    RemoteReference ref = connect(server(), true);
    for (int i = 0; i < CALLS; i++) {
      assertThat(get(ref.callRemote(Integer.class, "directRecord", i))).isEqualTo(i);
    }
    Throwable failure = failureOf(ref.callRemote("directFail", "blocked"));
    assertThat(failure).hasMessageContaining("direct method failed: blocked");
  }

  private static PbConnection serverConnection(PbServer server) {
    await().atMost(WAIT).until(() -> server.connections().size() == 1);
    return server.connections().iterator().next();
  }
}
