package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.Callback;
import io.pbj.Fixtures.EchoApi;
import io.pbj.Fixtures.Empty;
import io.pbj.Fixtures.Nest;
import io.pbj.Fixtures.OutOfStock;
import io.pbj.Fixtures.Point;
import io.pbj.Fixtures.Route;
import io.pbj.Fixtures.Unregistered;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The broker's behaviour, run over every transport (grpc's AbstractTransportTest pattern). Many
 * scenarios are ports of Twisted's {@code twisted.spread.test.test_pb}.
 */
abstract class AbstractBrokerTest extends AbstractPbTest {
  // ---- calls ----

  @Test
  void callReturnsItsResult() throws Exception {
    RemoteReference ref = connect(startServer());
    assertThat(get(ref.callRemote("echo", "hello"))).isEqualTo("hello");
    assertThat(get(ref.callRemote(Integer.class, "add", 2, 3))).isEqualTo(5);
  }

  @Test
  void typedProxyCallsByInterface() throws Exception {
    EchoApi api = connect(startServer()).as(EchoApi.class);
    assertThat(get(api.echo("typed"))).isEqualTo("typed");
    assertThat(get(api.add(20, 22).toCompletableFuture())).isEqualTo(42);
    Throwable wrongType = failureOf(api.echoAsInteger("not a number"));
    assertThat(wrongType).isInstanceOf(PbException.class);
    assertThat(((PbException) wrongType).code()).isEqualTo(PbException.Code.BAD_RESULT);
  }

  @Test
  void typedProxyRefusesNonFutureMethodsNamingThem() {
    RemoteReference ref = connect(startServer());
    assertThatThrownBy(() -> ref.as(Fixtures.BadApi.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BadApi.echo");
  }

  @Test
  void oneWayCallRunsWithoutAnswer() throws Exception {
    RemoteReference ref = connect(startServer());
    get(ref.callRemoteOneWay("remember", "first"));
    ref.as(EchoApi.class).remember("second");
    // a later call on the same connection starts after both one-way calls
    get(ref.callRemote("echo", "sync"));
    assertThat(root.remembered).containsExactly("first", "second");
  }

  @Test
  void methodReturningUnfinishedFutureAnswersWhenItCompletes() throws Exception {
    RemoteReference ref = connect(startServer());
    CompletableFuture<Object> answer = ref.callRemote("later");
    // other calls are not held up by the unfinished one
    assertThat(get(ref.callRemote("echo", "meanwhile"))).isEqualTo("meanwhile");
    assertThat(answer).isNotDone();
    root.later.complete("done");
    assertThat(get(answer)).isEqualTo("done");
  }

  /**
   * Longest time {@link #callsStartInArrivalOrder} waits for either side to read another
   * message. Its calls are written one by one by the client's event loop, and an answer reaching
   * that loop waits behind every write queued before it: the first answers come only once nearly
   * all the calls are written, which on a loaded machine takes longer than {@link #WAIT}. What is
   * wrong is a connection on which nothing moves any more.
   */
  static final Duration STALL = Duration.ofSeconds(30);

  @Test
  @Timeout(300)
  void callsStartInArrivalOrder() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    PbConnection clientSide = ref.connection();
    List<CompletableFuture<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      calls.add(ref.callRemote("record", i));
    }
    CompletableFuture<Void> all = CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
    awaitProgress(
        STALL,
        all::isDone,
        () -> serverSide.stats().messagesReceived() + clientSide.stats().messagesReceived(),
        () ->
            String.format(
                "the server read %d messages, the client %d; %d of %d calls answered",
                serverSide.stats().messagesReceived(), clientSide.stats().messagesReceived(),
                calls.stream().filter(CompletableFuture::isDone).count(), calls.size()));
    for (int i = 0; i < calls.size(); i++) {
      assertThat(calls.get(i).join()).isEqualTo(i);
    }
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      expected.add(Integer.toString(i));
    }
    assertThat(root.order).isEqualTo(expected);
  }

  @Test
  void futuresAndRemoteMethodsNeverRunOnTheEventLoop() throws Exception {
    RemoteReference ref = connect(startServer());
    AtomicReference<String> completedOn = new AtomicReference<>();
    get(ref.callRemote("echo", "x").thenApply(r -> {
      completedOn.set(Thread.currentThread().getName());
      return r;
    }));
    assertThat(completedOn.get()).doesNotContain("-io-").doesNotContain("accept");
    assertThat(root.lastThread).startsWith("pbj-server").doesNotContain("-io-");
  }

  @Test
  void aBlockedCallerRunsItsOwnCompletionNeverTheEventLoop() throws Exception {
    RemoteReference ref = connect(startServer());
    CompletableFuture<Object> call = ref.callRemote("later");
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    CompletableFuture<Object> dependent =
        call.thenApply(
            r -> {
              ranOn.set(Thread.currentThread());
              return r;
            });
    Thread caller = Thread.currentThread();
    CompletableFuture.runAsync(
        () -> {
          // answer only once the caller is parked in get(), so the hand-off is what is tested
          await().atMost(WAIT).until(() -> caller.getState() == Thread.State.TIMED_WAITING);
          root.later.complete("answer");
        });
    assertThat(call.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("answer");
    assertThat(dependent).isDone();
    assertThat(ranOn.get()).isSameAs(Thread.currentThread());
  }

  @Test
  void concurrentCallersGetTheirOwnAnswers() throws Exception {
    RemoteReference ref = connect(startServer());
    java.util.concurrent.ExecutorService threads =
        java.util.concurrent.Executors.newFixedThreadPool(8);
    List<CompletableFuture<List<Boolean>>> workers = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int thread = t;
      workers.add(
          CompletableFuture.supplyAsync(
              () -> {
                List<Boolean> ok = new ArrayList<>();
                for (int i = 0; i < 300; i++) {
                  String text = "thread-" + thread + "-call-" + i + "-" + "x".repeat(i % 97);
                  ok.add(text.equals(ref.callRemote("echo", text).join()));
                }
                return ok;
              },
              threads));
    }
    try {
      for (CompletableFuture<List<Boolean>> w : workers) {
        assertThat(get(w)).hasSize(300).containsOnly(true);
      }
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void twoThreadsBlockedOnOneCallBothSeeTheAnswer() throws Exception {
    RemoteReference ref = connect(startServer());
    CompletableFuture<Object> call = ref.callRemote("later");
    CompletableFuture<Object> first = CompletableFuture.supplyAsync(call::join);
    CompletableFuture<Object> second = CompletableFuture.supplyAsync(call::join);
    root.later.complete("both");
    assertThat(get(first)).isEqualTo("both");
    assertThat(get(second)).isEqualTo("both");
  }

  @Test
  void aCallbackJoiningAnotherCallOfTheSameConnectionDoesNotDeadlock() throws Exception {
    RemoteReference ref = connect(startServer());
    for (int i = 0; i < 50; i++) {
      CompletableFuture<Object> a = ref.callRemote("echo", "a" + i);
      CompletableFuture<Object> b = ref.callRemote("echo", "b" + i);
      CompletableFuture<String> both = a.thenApply(x -> x + "+" + b.join());
      assertThat(get(both)).isEqualTo("a" + i + "+b" + i);
    }
  }

  @Test
  void timedOutOrInterruptedWaitLeavesTheCallToCompleteLater() throws Exception {
    RemoteReference ref = connect(startServer());
    CompletableFuture<Object> call = ref.callRemote("later");
    assertThatThrownBy(() -> call.get(50, TimeUnit.MILLISECONDS))
        .isInstanceOf(java.util.concurrent.TimeoutException.class);
    Thread.currentThread().interrupt();
    assertThatThrownBy(call::get).isInstanceOf(InterruptedException.class);
    root.later.complete("eventually");
    assertThat(get(call)).isEqualTo("eventually");
    assertThat(call.join()).isEqualTo("eventually");
  }

  @Test
  void cancellingACallCancelsItAtThePeer() throws Exception {
    RemoteReference ref = connect(startServer());
    CompletableFuture<Object> call = ref.callRemote("hang");
    await().atMost(WAIT).until(() -> root.cancellable != null);
    assertThat(call.cancel(true)).isTrue();
    assertThat(get(root.cancelSeen)).isTrue();
    // the connection keeps working
    assertThat(get(ref.callRemote("echo", "after"))).isEqualTo("after");
  }

  // ---- copies ----

  @Test
  void copiesArriveIntactAndFreshEachTime() throws Exception {
    RemoteReference ref = connect(startServer());
    Map<String, List<Integer>> tags = new LinkedHashMap<>();
    tags.put("a", List.of(1, 2, 3));
    tags.put("b", new ArrayList<>(List.of(4)));
    Route route = new Route("r", List.of(new Point(1, 2), new Point(3, 4)), tags);
    Map<String, Object> value = new HashMap<>();
    value.put("route", route);
    value.put("nested", List.of(List.of(1, List.of("x", 2L)), Map.of("k", 1.5)));
    value.put("uuid", UUID.randomUUID());
    value.put("bytes", new byte[] {1, 2, 3});

    Object first = get(ref.callRemote("echoValue", value));
    Object second = get(ref.callRemote("echoValue", value));
    @SuppressWarnings("unchecked")
    Map<String, Object> copy = (Map<String, Object>) first;
    assertThat(copy.get("route")).isEqualTo(route);
    assertThat(copy.get("nested")).isEqualTo(value.get("nested"));
    assertThat(copy.get("uuid")).isEqualTo(value.get("uuid"));
    assertThat((byte[]) copy.get("bytes")).containsExactly(1, 2, 3);
    @SuppressWarnings("unchecked")
    Map<String, Object> again = (Map<String, Object>) second;
    assertThat(again).isNotSameAs(copy);
    assertThat(again.get("route")).isEqualTo(copy.get("route")).isNotSameAs(copy.get("route"));
    assertThat(again.get("bytes")).isNotSameAs(copy.get("bytes"));
    assertThat(copy.get("route")).isNotSameAs(route);
  }

  @Test
  void containersWhoseElementsCostNoBytesRoundTrip() throws Exception {
    // Kryo writes a collection of nulls, or of one record type without fields, as its length and
    // one class id: more elements than there are bytes left in the message.
    RemoteReference ref = connect(startServer());
    List<Object> nulls = new ArrayList<>(Collections.nCopies(100, null));
    List<Object> values =
        List.of(
            nulls,
            new LinkedList<>(Collections.nCopies(100, null)),
            new ArrayList<>(Collections.nCopies(100, new Empty())),
            new ArrayList<>(List.of(nulls, nulls, new ArrayList<>(Collections.nCopies(1000, null)))),
            new HashSet<>(Collections.singleton(null)),
            Arrays.asList(new Object[100]));
    for (Object value : values) {
      assertThat(get(ref.callRemote("echoValue", value))).isEqualTo(value);
    }
    Object[] array = (Object[]) get(ref.callRemote("echoValue", (Object) new Object[100]));
    assertThat(array).hasSize(100).containsOnlyNulls();
    Map<String, Object> nullValues = new HashMap<>();
    for (int i = 0; i < 100; i++) {
      nullValues.put("k" + i, null);
    }
    assertThat(get(ref.callRemote("echoValue", nullValues))).isEqualTo(nullValues);
  }

  @Test
  void twentyMegabyteArgumentRoundTrips() throws Exception {
    RemoteReference ref = connect(startServer());
    byte[] data = new byte[20 * 1024 * 1024];
    new Random(1).nextBytes(data);
    byte[] reversed = (byte[]) get(ref.callRemote("reverse", (Object) data));
    assertThat(reversed.length).isEqualTo(data.length);
    for (int i = 0; i < data.length; i += 4099) {
      assertThat(reversed[data.length - 1 - i]).isEqualTo(data[i]);
    }
  }

  @Test
  void valueThatFailsToSerializeFailsTheCallerAndNothingElse() throws Exception {
    RemoteReference ref = connect(startServer());
    Throwable sendSide = failureOf(ref.callRemote("echoValue", new Unregistered("arg")));
    assertThat(sendSide).isInstanceOf(PbException.class).hasMessageContaining("Unregistered");
    assertThat(((PbException) sendSide).code()).isEqualTo(PbException.Code.UNSERIALIZABLE);

    Throwable answerSide = failureOf(ref.callRemote("unserializableResult"));
    assertThat(((PbException) answerSide).code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(answerSide).hasMessageContaining("Unregistered");

    assertThat(get(ref.callRemote("echo", "still alive"))).isEqualTo("still alive");
    assertThat(ref.isConnected()).isTrue();
  }

  @Test
  void oversizeMessageIsRefusedWithAClearError() throws Exception {
    PbServer server = startServer(b -> b.registry(Fixtures.registry()).maxMessageSize(64 * 1024));
    RemoteReference ref =
        client(server, b -> b.registry(Fixtures.registry()).maxMessageSize(64 * 1024))
            .rootObject()
            .join();
    Throwable t = failureOf(ref.callRemote("reverse", (Object) new byte[100 * 1024]));
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(t).hasMessageContaining("65536");
    assertThat(get(ref.callRemote("echo", "fine"))).isEqualTo("fine");
  }

  @Test
  void incomingMessageOverTheLimitClosesTheConnection() throws Exception {
    CompletableFuture<PbException> serverSide = new CompletableFuture<>();
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .maxMessageSize(64 * 1024)
                    .onDisconnect((c, e) -> serverSide.complete(e)));
    PbClient client = client(server, b -> b.registry(Fixtures.registry()));
    RemoteReference ref = client.rootObject().join();
    Throwable t = failureOf(ref.callRemote("reverse", (Object) new byte[100 * 1024]));
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(t)
        .as("the server said why before it closed")
        .hasMessageContaining("said goodbye")
        .hasMessageContaining("refused");
    assertThat(ref.isConnected()).isFalse();
    assertThat(get(serverSide).code())
        .as("a connection closed for a limit is reported as such")
        .isEqualTo(PbException.Code.LIMIT_EXCEEDED);
  }

  @Test
  void deeplyNestedMessageIsRefusedWithAClearError() throws Exception {
    RemoteReference ref = connect(startServer());
    Throwable t = failureOf(ref.callRemote("echoValue", Nest.ofDepth(500)));
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(t).hasMessageContaining("deeper than the limit of 64");
    Throwable answer = failureOf(ref.callRemote("deep", 500));
    assertThat(answer).hasMessageContaining("deeper than the limit");
    assertThat(get(ref.callRemote("echoValue", Nest.ofDepth(10)))).isEqualTo(Nest.ofDepth(10));
  }

  // ---- references ----

  @Test
  void referencePassedAsArgumentCanBeCalledBackAndKeepsIdentity() throws Exception {
    RemoteReference ref = connect(startServer());
    Callback callback = new Callback();
    assertThat(get(ref.callRemote("callBack", callback, "ping"))).isEqualTo("got ping");
    assertThat(get(ref.callRemote("callBackAsync", callback, 7))).isEqualTo("got 7");
    assertThat(callback.received).containsExactly("ping", 7);
    // the server sees the same proxy both times, and sending it back gives us our object
    assertThat(get(ref.callRemote("same", callback, callback))).isEqualTo(true);
    assertThat(get(ref.callRemote("identity", callback))).isSameAs(callback);
  }

  @Test
  void remoteReferenceSentBackArrivesAsTheOriginal() throws Exception {
    RemoteReference ref = connect(startServer());
    RemoteReference counter = (RemoteReference) get(ref.callRemote("newCounter"));
    assertThat(get(counter.callRemote("increment"))).isEqualTo(1);
    assertThat(get(ref.callRemote("identity", counter))).isSameAs(counter);
    RemoteReference observable1 = (RemoteReference) get(ref.callRemote("observable"));
    RemoteReference observable2 = (RemoteReference) get(ref.callRemote("observable"));
    assertThat(observable1).isSameAs(observable2);
  }

  /** Observer that unsubscribes itself while it is being notified. */
  static final class Unsubscriber implements Referenceable {
    final List<Object> events = new ArrayList<>();

    @Remote
    public CompletableFuture<Object> notify(Object event, RemoteReference observable) {
      events.add(event);
      return observable.callRemote("unsubscribe", this);
    }
  }

  @Test
  void observerCanUnsubscribeItselfDuringNotification() throws Exception {
    RemoteReference ref = connect(startServer());
    RemoteReference observable = (RemoteReference) get(ref.callRemote("observable"));
    Unsubscriber observer = new Unsubscriber();
    get(observable.callRemote("subscribe", observer));
    assertThat(root.observable.observers).hasSize(1);
    get(observable.callRemote("notifyAll", "event-1"));
    assertThat(observer.events).containsExactly("event-1");
    assertThat(root.observable.observers).isEmpty();
  }

  /**
   * The objects {@code serverSide} exports once its root is among them. The server creates the
   * root on the connection's call sequence, so a client can hold the root's reference before the
   * root is exported; it is, once a call on it has been answered.
   */
  static int exportedOnceTheRootIs(RemoteReference root, PbConnection serverSide)
      throws Exception {
    get(root.callRemote("echo", "the root exists"));
    return serverSide.exportedCount();
  }

  @Test
  void releasingAReferenceRemovesItFromTheExporterTable() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    int before = exportedOnceTheRootIs(ref, serverSide);
    RemoteReference counter = (RemoteReference) get(ref.callRemote("newCounter"));
    assertThat(serverSide.exportedCount()).isEqualTo(before + 1);
    counter.release();
    await().atMost(WAIT).until(() -> serverSide.exportedCount() == before);
    Throwable t = failureOf(counter.callRemote("increment"));
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.DEAD_REFERENCE);
  }

  @Test
  void garbageCollectedProxyIsReleased() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    int before = exportedOnceTheRootIs(ref, serverSide);
    // held until the export is counted (a collection before that would release it, and the count
    // would miss it), then let go for good: no local variable keeps it reachable afterwards
    AtomicReference<Object> counter = new AtomicReference<>(get(ref.callRemote("newCounter")));
    assertThat(serverSide.exportedCount()).isEqualTo(before + 1);
    counter.set(null);
    await()
        .atMost(WAIT)
        .until(
            () -> {
              System.gc();
              return serverSide.exportedCount() == before;
            });
  }

  @Test
  void referenceSentTwiceNeedsBothReceiptsReleased() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    RemoteReference o1 = (RemoteReference) get(ref.callRemote("observable"));
    RemoteReference o2 = (RemoteReference) get(ref.callRemote("observable"));
    assertThat(o1).isSameAs(o2);
    int exported = serverSide.exportedCount();
    o1.release();
    await().atMost(WAIT).until(() -> serverSide.exportedCount() == exported - 1);
    // sent again after the release: a fresh proxy that works
    RemoteReference o3 = (RemoteReference) get(ref.callRemote("observable"));
    assertThat(o3).isNotSameAs(o1);
    assertThat(get(o3.callRemote("notifyAll", "x"))).isEqualTo(0);
  }

  @Test
  void tooManyReferencesFailsTheCallThenClosesTheConnection() throws Exception {
    PbServer server = startServer(b -> b.registry(Fixtures.registry()).maxReferences(5));
    RemoteReference ref = connect(server);
    List<RemoteReference> held = new ArrayList<>();
    for (int i = 0; i < 4; i++) { // the root is the fifth
      held.add((RemoteReference) get(ref.callRemote("newCounter")));
    }
    Throwable first = failureOf(ref.callRemote("newCounter"));
    assertThat(((PbException) first).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(first).hasMessageContaining("limit (maxReferences) is 5");
    assertThat(ref.isConnected()).isTrue();
    failureOf(ref.callRemote("newCounter"));
    await().atMost(WAIT).until(() -> !ref.isConnected());
    assertThat(held).allSatisfy(r -> assertThat(r.isConnected()).isFalse());
  }

  // ---- errors ----

  @Test
  void remoteExceptionArrivesWithTypeAndMessageButNoStack() throws Exception {
    RemoteReference ref = connect(startServer());
    Throwable t = failureOf(ref.callRemote("fail", "boom"));
    assertThat(t).isInstanceOf(PbRemoteException.class);
    PbRemoteException r = (PbRemoteException) t;
    assertThat(r.code()).isEqualTo(PbException.Code.REMOTE_FAILURE);
    assertThat(r.remoteType()).isEqualTo(IllegalStateException.class.getName());
    assertThat(r.remoteMessage()).isEqualTo("boom");
    assertThat(r.remoteStackTrace()).isNull();
    Throwable later = failureOf(ref.callRemote("failLater", "later"));
    assertThat(((PbRemoteException) later).remoteType())
        .isEqualTo(IllegalArgumentException.class.getName());
  }

  @Test
  void remoteStackArrivesOnlyWhenTheServerAllowsIt() throws Exception {
    PbServer server =
        startServer(b -> b.registry(Fixtures.registry()).sendStackTraces(true));
    Throwable t = failureOf(connect(server).callRemote("fail", "boom"));
    assertThat(((PbRemoteException) t).remoteStackTrace()).contains("Fixtures$Root.fail");
  }

  @Test
  void registeredExceptionArrivesAsItself() throws Exception {
    RemoteReference ref = connect(startServer());
    Throwable t = failureOf(ref.callRemote("outOfStock", "tea"));
    assertThat(t).isInstanceOf(OutOfStock.class).hasMessage("tea is out of stock");
  }

  @Test
  void unknownOrNonRemoteMethodIsANoSuchMethodError() throws Exception {
    RemoteReference ref = connect(startServer());
    for (String name : List.of("nope", "notRemote", "toString", "getClass")) {
      Throwable t = failureOf(ref.callRemote(name));
      assertThat(((PbException) t).code()).isEqualTo(PbException.Code.NO_SUCH_METHOD);
      assertThat(t).hasMessageContaining("'" + name + "'").hasMessageContaining("Root");
    }
  }

  @Test
  void wrongArgumentsAreABadArgumentsError() throws Exception {
    RemoteReference ref = connect(startServer());
    Throwable count = failureOf(ref.callRemote("add", 1));
    assertThat(((PbException) count).code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
    assertThat(count).hasMessageContaining("Root.add takes 2 arguments, got 1");
    Throwable type = failureOf(ref.callRemote("add", "one", 2));
    assertThat(type).hasMessageContaining("argument 0 must be a int");
  }

  // ---- disconnect ----

  @Test
  void disconnectRunsTheListenersOnBothEnds() throws Exception {
    CompletableFuture<PbException> serverSaw = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry()).onDisconnect((c, e) -> serverSaw.complete(e)));
    CompletableFuture<PbException> clientSaw = new CompletableFuture<>();
    PbClient client =
        client(server, b -> b.registry(Fixtures.registry()).onDisconnect(clientSaw::complete));
    RemoteReference ref = client.rootObject().join();
    CountDownLatch refSaw = new CountDownLatch(1);
    ref.onDisconnect(refSaw::countDown);
    client.shutdown();
    assertThat(get(clientSaw).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(get(serverSaw).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(get(serverSaw)).hasMessageContaining("client shutting down");
    assertThat(refSaw.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void pendingCallsFailWithConnectionLostAndLaterCallsFailAtOnce() throws Exception {
    PbServer server = startServer();
    RemoteReference ref = connect(server);
    CompletableFuture<Object> pending = ref.callRemote("later");
    await().atMost(WAIT).until(() -> !server.connections().isEmpty());
    server.connections().forEach(PbConnection::close);
    Throwable t = failureOf(pending);
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    CompletableFuture<Object> after = ref.callRemote("echo", "x");
    assertThat(after).isCompletedExceptionally();
    assertThat(((PbException) failureOf(after)).code())
        .isEqualTo(PbException.Code.DEAD_REFERENCE);
  }

  // ---- handshake and builders ----

  @Test
  void registryMismatchFailsTheConnectionNamingTheIdAndBothClasses() {
    PbServer server = startServer();
    PbClient client =
        client(
            server,
            b -> b.registry(PbRegistry.builder().register(Route.class, Point.class).build()));
    Throwable t = failureOf(client.rootObject());
    assertThat(t).isInstanceOf(PbException.class);
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.REGISTRY_MISMATCH);
    assertThat(t.getMessage())
        .contains("id 100")
        .contains(Route.class.getName())
        .contains(Point.class.getName());
  }

  @Test
  void builderOptionsFailAtOnceNamingTheOption() {
    assertThatThrownBy(() -> PbClient.builder().maxDepth(3).maxDepth(4))
        .hasMessageContaining("maxDepth was already set");
    assertThatThrownBy(() -> PbServer.builder().port(1).inProcess("x"))
        .hasMessageContaining("inProcess conflicts with PbServer.Builder.port");
    assertThatThrownBy(() -> PbServer.builder().root(root).rootFactory(c -> root))
        .hasMessageContaining("rootFactory");
    assertThatThrownBy(() -> PbClient.builder().maxFrameSize(0))
        .hasMessageContaining("maxFrameSize must be positive");
    assertThatThrownBy(() -> PbClient.builder().inProcess("x").maxFrameSize(100).build())
        .hasMessageContaining("maxFrameSize 100 is below the minimum");
    assertThatThrownBy(() -> PbServer.builder().root(root).build())
        .hasMessageContaining("needs an address");
    assertThatThrownBy(() -> PbRegistry.builder().register(Fixtures.Counter.class))
        .hasMessageContaining("Referenceable");
    assertThatThrownBy(() -> PbRegistry.builder().register(Point.class).register(Point.class))
        .hasMessageContaining("already registered");
  }

  @Test
  void manyClientsShareOneServer() throws Exception {
    PbServer server = startServer();
    List<CompletableFuture<Object>> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answers.add(connect(server).callRemote("echo", "client " + i));
    }
    for (int i = 0; i < 5; i++) {
      assertThat(get(answers.get(i))).isEqualTo("client " + i);
    }
    assertThat(Arrays.asList(server.connections().toArray())).hasSize(5);
  }
}
