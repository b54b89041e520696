package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A peer calling thousands of distinct methods that do not exist cannot make the server's hooks
 * (interceptors, listener) see one name per call, so a metrics tag keyed by method stays as small
 * as the server's own interface.
 */
class MethodNameExplosionAttackTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  @Test
  void callsToThousandsOfMissingMethodsReachNoServerHook() throws Exception {
    Set<String> intercepted = ConcurrentHashMap.newKeySet();
    Set<String> started = ConcurrentHashMap.newKeySet();
    Set<String> ended = ConcurrentHashMap.newKeySet();
    PbListener listener =
        new PbListener() {
          @Override
          public void callStarted(PbCall call) {
            started.add(call.method());
          }

          @Override
          public void callEnded(PbCall call, long nanos, Throwable failure) {
            ended.add(call.method());
          }
        };
    CallInterceptor interceptor =
        (call, next) -> {
          intercepted.add(call.method());
          return next.proceed();
        };
    PbServer s =
        startServer(
            b -> b.registry(Fixtures.registry()).eventListener(listener).interceptors(interceptor));
    RemoteReference ref = client(s, b -> b.registry(Fixtures.registry())).rootObject().join();

    List<CompletableFuture<Object>> calls = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      calls.add(ref.callRemote("m" + i + "\u0001" + "x".repeat(200)));
    }
    for (CompletableFuture<Object> call : calls) {
      PbException e = (PbException) failureOf(call);
      assertThat(e.code()).isEqualTo(PbException.Code.NO_SUCH_METHOD);
    }
    // a real call after them, answered only once every earlier one was refused (one sequence)
    assertThat(get(ref.callRemote("add", 2, 3))).isEqualTo(5);

    assertThat(intercepted).containsExactly("add");
    assertThat(started).containsExactly("add");
    assertThat(ended).isSubsetOf("add");
  }
}
