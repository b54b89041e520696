package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.ScoreboardCache;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link PbListener}: what a broker reports of real connections, calls and pushes. */
class PbListenerTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** Keeps every event, and the thread names it arrived on. */
  static final class Recorder implements PbListener {
    final CompletableFuture<PbConnection> opened = new CompletableFuture<>();
    final CompletableFuture<PbConnection.Stats> closed = new CompletableFuture<>();
    final List<String> started = new CopyOnWriteArrayList<>();
    final List<String> ended = new CopyOnWriteArrayList<>();
    final List<Long> nanos = new CopyOnWriteArrayList<>();
    final List<String> pushes = new CopyOnWriteArrayList<>();
    final List<String> pressure = new CopyOnWriteArrayList<>();
    final Map<String, Boolean> threads = new ConcurrentHashMap<>();

    private void thread() {
      String name = Thread.currentThread().getName();
      threads.put(name, name.contains("-io") || name.contains("accept"));
    }

    @Override
    public void connectionOpened(PbConnection connection) {
      thread();
      opened.complete(connection);
    }

    @Override
    public void connectionClosed(PbConnection connection, PbException cause) {
      thread();
      closed.complete(connection.stats());
    }

    @Override
    public void callStarted(PbCall call) {
      thread();
      started.add(call.side() + " " + call.method());
    }

    @Override
    public void callEnded(PbCall call, long nanos, Throwable failure) {
      thread();
      this.nanos.add(nanos);
      ended.add(call.side() + " " + call.method() + " "
          + (failure == null ? "ok" : failure instanceof PbException pb ? pb.code().name()
              : failure.getClass().getSimpleName()));
    }

    @Override
    public void pushSent(PbConnection connection, Class<?> cacheable, String method) {
      thread();
      pushes.add("sent " + cacheable.getSimpleName() + "." + method);
    }

    @Override
    public void pushFailed(
        PbConnection connection, Class<?> cacheable, String method, Throwable failure) {
      thread();
      pushes.add("failed " + cacheable.getSimpleName() + "." + method);
    }

    @Override
    public void backpressure(PbConnection connection, Pressure kind, String detail) {
      thread();
      pressure.add(kind + ": " + detail);
    }
  }

  @Test
  void callsAreReportedOnBothSidesWithTheirOutcome() throws Exception {
    Recorder server = new Recorder();
    Recorder client = new Recorder();
    PbServer s = startServer(b -> b.registry(Fixtures.registry()).eventListener(server));
    RemoteReference ref =
        client(s, b -> b.registry(Fixtures.registry()).eventListener(client)).rootObject().join();

    assertThat(get(ref.callRemote("add", 2, 3))).isEqualTo(5);
    failureOf(ref.callRemote("fail", "boom"));
    failureOf(ref.callRemote("noSuchMethod"));
    // a method that does not exist is refused before the server's hook: like grpc-java, which
    // has no method to intercept then
    await().atMost(WAIT).until(() -> server.ended.size() == 2 && client.ended.size() == 3);

    assertThat(client.started).containsExactly("CLIENT add", "CLIENT fail", "CLIENT noSuchMethod");
    assertThat(client.ended)
        .containsExactly(
            "CLIENT add ok", "CLIENT fail REMOTE_FAILURE", "CLIENT noSuchMethod NO_SUCH_METHOD");
    assertThat(server.ended)
        .containsExactly(
            "SERVER add ok",
            "SERVER fail IllegalStateException");
    assertThat(client.nanos).allMatch(n -> n >= 0);
    assertThat(server.threads).containsValue(false).doesNotContainValue(true);
    assertThat(client.threads).doesNotContainValue(true);
  }

  @Test
  void connectionsAreReportedOpenAndClosedWithTheirBytes() throws Exception {
    Recorder server = new Recorder();
    PbServer s = startServer(b -> b.registry(Fixtures.registry()).eventListener(server));
    PbClient client = client(s, b -> b.registry(Fixtures.registry()));
    RemoteReference ref = client.rootObject().join();
    get(ref.callRemote("reverse", new byte[10_000]));

    PbConnection opened = get(server.opened);
    client.shutdown();
    PbConnection.Stats stats = get(server.closed);

    assertThat(opened.remoteAddress()).isNotNull();
    assertThat(stats.bytesReceived()).isGreaterThan(10_000);
    assertThat(stats.bytesSent()).isGreaterThan(10_000);
    assertThat(server.threads).doesNotContainValue(true);
  }

  @Test
  void cacheablePushesAreReportedAsSentOrFailed() throws Exception {
    Recorder server = new Recorder();
    PbServer s = startServer(b -> b.registry(Fixtures.registry()).eventListener(server));
    RemoteReference ref = connect(s);
    ScoreboardCache cache = (ScoreboardCache) get(ref.callRemote("scoreboard"));
    RemoteObserver observer = root.scoreboard.observers.iterator().next();

    get(ref.callRemote("post", "one"));
    await().atMost(WAIT).until(() -> cache.entries.contains("one"));
    await().atMost(WAIT).until(() -> server.pushes.size() == 1);
    ref.connection().close();
    await().atMost(WAIT).until(() -> !observer.isObserving());
    failureOf(observer.callRemote("added", "too late"));
    await().atMost(WAIT).until(() -> server.pushes.size() == 2);

    assertThat(server.pushes).containsExactly("sent Scoreboard.added", "failed Scoreboard.added");
    assertThat(server.threads).doesNotContainValue(true);
  }

  @Test
  void aListenerThatThrowsChangesNothing() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    PbListener broken =
        new PbListener() {
          @Override
          public void callStarted(PbCall call) {
            calls.incrementAndGet();
            throw new IllegalStateException("listener broken on purpose");
          }

          @Override
          public void callEnded(PbCall call, long nanos, Throwable failure) {
            throw new IllegalStateException("listener broken on purpose");
          }
        };
    PbServer s = startServer(b -> b.registry(Fixtures.registry()).eventListener(broken));
    RemoteReference ref =
        client(s, b -> b.registry(Fixtures.registry()).eventListener(broken)).rootObject().join();

    assertThat(get(ref.callRemote("echo", "still"))).isEqualTo("still");
    assertThat(calls).hasValue(2);
  }
}
