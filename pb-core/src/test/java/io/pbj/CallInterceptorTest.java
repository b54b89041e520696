package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link CallInterceptor}s on both sides of real calls, over the in-process transport. */
class CallInterceptorTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** Records when it sees a call and when it sees its outcome. */
  static CallInterceptor recording(String name, List<String> log) {
    return (call, next) -> {
      log.add(name + ">" + call.method());
      return next.proceed().whenComplete((r, t) -> log.add("<" + name));
    };
  }

  private static boolean networkThread() {
    String name = Thread.currentThread().getName();
    return name.startsWith("pbj-server-io") || name.startsWith("pbj-client-io")
        || name.startsWith("pbj-accept");
  }

  @Test
  void interceptorsRunInOrderOnBothSidesAndWrapTheOutcome() throws Exception {
    List<String> serverLog = new CopyOnWriteArrayList<>();
    List<String> clientLog = new CopyOnWriteArrayList<>();
    List<PbCall> seen = new CopyOnWriteArrayList<>();
    List<Boolean> onNetworkThread = new CopyOnWriteArrayList<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry())
                .interceptors(
                    recording("s1", serverLog),
                    (call, next) -> {
                      seen.add(call);
                      onNetworkThread.add(networkThread());
                      assertThat(CallContext.current().method()).isEqualTo(call.method());
                      return next.proceed();
                    },
                    recording("s2", serverLog)));
    PbClient client =
        client(
            server,
            b -> b.registry(Fixtures.registry())
                .interceptors(
                    recording("c1", clientLog),
                    (call, next) -> {
                      seen.add(call);
                      onNetworkThread.add(networkThread());
                      return next.proceed().thenApply(r -> r + "!");
                    }));
    RemoteReference ref = client.rootObject().join();

    assertThat(get(ref.callRemote("echo", "hi"))).isEqualTo("hi!");

    assertThat(serverLog).containsExactly("s1>echo", "s2>echo", "<s2", "<s1");
    assertThat(clientLog).contains("c1>echo");
    PbCall clientCall = seen.stream().filter(c -> c.side() == PbCall.Side.CLIENT).findFirst().get();
    PbCall serverCall = seen.stream().filter(c -> c.side() == PbCall.Side.SERVER).findFirst().get();
    assertThat(clientCall.method()).isEqualTo("echo");
    assertThat(clientCall.arguments()).containsExactly("hi");
    assertThat(clientCall.target()).isSameAs(ref);
    assertThat(clientCall.connection()).isSameAs(ref.connection());
    assertThat(serverCall.target()).isSameAs(root);
    assertThat(serverCall.arguments()).containsExactly("hi");
    assertThat(serverCall.oneWay()).isFalse();
    assertThat(onNetworkThread).containsOnly(false);
  }

  @Test
  void serverInterceptorFailsACallWithAPbExceptionAndTheMethodDoesNotRun() throws Exception {
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry())
                .interceptors(
                    (call, next) -> {
                      if (call.method().equals("remember")) {
                        throw new PbException(PbException.Code.UNAUTHORIZED, "not for you");
                      }
                      return next.proceed();
                    }));
    RemoteReference ref = connect(server);

    Throwable failure = failureOf(ref.callRemote("remember", "secret"));

    assertThat(failure).isInstanceOf(PbException.class);
    assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(failure.getMessage()).contains("not for you");
    assertThat(root.remembered).isEmpty();
    assertThat(get(ref.callRemote("add", 2, 3))).isEqualTo(5); // the connection goes on
  }

  static final class Broken implements CallInterceptor {
    @Override
    public CompletableFuture<Object> intercept(PbCall call, Next next) {
      if (call.method().equals("echo")) {
        throw new IllegalStateException("broken on purpose");
      }
      return next.proceed();
    }
  }

  @Test
  void throwingClientInterceptorFailsThatCallOnlyAndSendsNothing() throws Exception {
    PbServer server = startServer();
    PbClient client = client(server, b -> b.registry(Fixtures.registry()).interceptors(new Broken()));
    RemoteReference ref = client.rootObject().join();

    Throwable failure = failureOf(ref.callRemote("echo", "x"));

    assertThat(failure).isInstanceOf(PbException.class);
    assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.INTERCEPTOR_FAILED);
    assertThat(failure.getMessage())
        .contains(Broken.class.getName())
        .contains("'echo'")
        .contains("broken on purpose");
    assertThat(ref.connection().stats().callsSent()).isZero();
    assertThat(root.lastThread).isNull();
    assertThat(get(ref.callRemote("add", 1, 1))).isEqualTo(2);
    assertThat(ref.isConnected()).isTrue();
  }

  @Test
  void throwingServerInterceptorAnswersTheCallerWithANamedFailure() throws Exception {
    PbServer server =
        startServer(b -> b.registry(Fixtures.registry()).interceptors(new Broken()));
    RemoteReference ref = connect(server);

    Throwable failure = failureOf(ref.callRemote("echo", "x"));

    assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.INTERCEPTOR_FAILED);
    assertThat(failure.getMessage()).contains(Broken.class.getName()).contains("'echo'");
    assertThat(root.lastThread).isNull();
    assertThat(get(ref.callRemote("add", 1, 2))).isEqualTo(3);
  }

  @Test
  void interceptorThatReturnsNullFailsTheCallNamingIt() throws Exception {
    PbServer server = startServer();
    CallInterceptor nothing = (call, next) -> null;
    PbClient client = client(server, b -> b.registry(Fixtures.registry()).interceptors(nothing));

    Throwable failure = failureOf(client.rootObject().join().callRemote("echo", "x"));

    assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.INTERCEPTOR_FAILED);
    assertThat(failure.getMessage()).contains("returned null");
  }

  @Test
  void interceptorProceedingTwiceSendsTheCallOnce() throws Exception {
    PbServer server = startServer();
    AtomicInteger second = new AtomicInteger();
    CallInterceptor twice =
        (call, next) -> {
          CompletableFuture<Object> first = next.proceed();
          next.proceed().whenComplete((r, t) -> {
            if (t != null) {
              second.incrementAndGet();
            }
          });
          return first;
        };
    PbClient client = client(server, b -> b.registry(Fixtures.registry()).interceptors(twice));
    RemoteReference ref = client.rootObject().join();

    get(ref.callRemote("remember", "once"));

    assertThat(root.remembered).containsExactly("once");
    assertThat(second).hasValue(1);
  }

  @Test
  void oneWayCallsAreInterceptedOnBothSides() throws Exception {
    List<PbCall> serverSeen = new CopyOnWriteArrayList<>();
    CompletableFuture<Void> ran = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry())
                .interceptors(
                    (call, next) -> {
                      serverSeen.add(call);
                      return next.proceed().whenComplete((r, t) -> ran.complete(null));
                    }));
    List<PbCall> clientSeen = new CopyOnWriteArrayList<>();
    PbClient client =
        client(
            server,
            b -> b.registry(Fixtures.registry())
                .interceptors((call, next) -> {
                  clientSeen.add(call);
                  return next.proceed();
                }));

    get(client.rootObject().join().callRemoteOneWay("remember", "quiet"));
    get(ran);

    assertThat(clientSeen).singleElement().extracting(PbCall::oneWay).isEqualTo(true);
    assertThat(serverSeen).singleElement().extracting(PbCall::oneWay).isEqualTo(true);
    assertThat(root.remembered).containsExactly("quiet");
  }

  @Test
  void cancellingTheWrappedFutureCancelsTheCallUnderneath() throws Exception {
    PbServer server = startServer();
    List<CompletableFuture<Object>> inner = new CopyOnWriteArrayList<>();
    CallInterceptor wrap =
        (call, next) -> {
          CompletableFuture<Object> f = next.proceed();
          inner.add(f);
          return f.thenApply(r -> r);
        };
    PbClient client = client(server, b -> b.registry(Fixtures.registry()).interceptors(wrap));
    RemoteReference ref = client.rootObject().join();

    CompletableFuture<Object> outer = ref.callRemote("hang");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> root.cancellable != null);
    outer.cancel(true);

    assertThat(inner).singleElement().satisfies(f -> assertThat(f).isCancelled());
    assertThat(get(root.cancelSeen)).as("the server's future was cancelled").isTrue();
  }

  @Test
  void settingInterceptorsTwiceFailsNamingTheOption() {
    PbServer.Builder b = serverBuilder().interceptors((call, next) -> next.proceed());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> b.interceptors((call, next) -> next.proceed()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("interceptors");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> serverBuilder().interceptors((CallInterceptor) null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("interceptors[0]");
  }
}
