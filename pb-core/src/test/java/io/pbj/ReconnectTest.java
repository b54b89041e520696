package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A reconnecting client against servers that stop and restart on the same TCP port. */
@Timeout(60)
class ReconnectTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final ReconnectPolicy FAST =
      ReconnectPolicy.exponential(Duration.ofMillis(20), Duration.ofMillis(200));

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** The root: hands out a numbered session object. */
  public static final class Lobby implements Referenceable {
    final int generation;
    final AtomicInteger sessions = new AtomicInteger();

    Lobby(int generation) {
      this.generation = generation;
    }

    @Remote
    public Session enter() {
      return new Session(generation, sessions.incrementAndGet());
    }
  }

  /** What the session initializer turns the root into. */
  public static final class Session implements Referenceable {
    final int generation;
    final int number;

    Session(int generation, int number) {
      this.generation = generation;
      this.number = number;
    }

    @Remote
    public String whoAmI() {
      return "server " + generation + " session " + number;
    }

    @Remote
    public CompletableFuture<String> never() {
      return new CompletableFuture<>();
    }
  }

  /** Records events as short strings. */
  static final class Recorder implements ClientListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<RemoteReference> sessions = new CopyOnWriteArrayList<>();

    @Override
    public void connected(RemoteReference session) {
      sessions.add(session);
      events.add("CONNECTED");
    }

    @Override
    public void disconnected(PbException cause) {
      events.add("DISCONNECTED " + cause.code());
    }

    @Override
    public void reconnecting(int attempt, Duration delay, PbException lastFailure) {
      events.add("RECONNECTING " + attempt);
    }

    @Override
    public void stopped(PbException cause) {
      events.add("STOPPED " + cause.code());
    }
  }

  PbServer server(int port, int generation) {
    return cleanup.register(
        PbServer.builder().address("127.0.0.1", port).root(new Lobby(generation)).build().start());
  }

  PbClient client(int port, Recorder recorder, ReconnectPolicy policy) {
    PbClient.Builder b =
        PbClient.builder()
            .address("127.0.0.1", port)
            .onSession(root -> root.callRemote(RemoteReference.class, "enter"))
            .listener(recorder);
    if (policy != null) {
      b.reconnect(policy);
    }
    return cleanup.register(b.build());
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  static PbException failureOf(CompletableFuture<?> f) throws Exception {
    try {
      f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(PbException.class);
      return (PbException) e.getCause();
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  @Test
  void reconnectsAfterTheServerRestartsOnTheSamePort() throws Exception {
    PbServer first = server(0, 1);
    int port = first.port();
    Recorder recorder = new Recorder();
    PbClient client = client(port, recorder, FAST);
    RemoteReference session = get(client.session());
    assertThat(get(session.callRemote("whoAmI"))).isEqualTo("server 1 session 1");
    CompletableFuture<Object> pending = session.callRemote("never");

    first.shutdown();
    assertThat(first.awaitTermination(WAIT)).isTrue();
    // the pending call fails, it does not hang
    assertThat(failureOf(pending).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    await().atMost(WAIT).until(() -> recorder.events.contains("RECONNECTING 2"));

    server(port, 2);
    await().atMost(WAIT).until(() -> recorder.sessions.size() == 2);
    assertThat(recorder.events.get(0)).isEqualTo("CONNECTED");
    assertThat(recorder.events.get(1)).isEqualTo("DISCONNECTED CONNECTION_LOST");
    assertThat(recorder.events.get(2)).isEqualTo("RECONNECTING 1");
    assertThat(recorder.events.get(recorder.events.size() - 1)).isEqualTo("CONNECTED");
    assertThat(recorder.events.subList(2, recorder.events.size() - 1))
        .allMatch(e -> e.startsWith("RECONNECTING"));

    RemoteReference again = get(client.session());
    assertThat(again).isSameAs(recorder.sessions.get(1));
    assertThat(get(again.callRemote("whoAmI"))).isEqualTo("server 2 session 1");
    Object entered = get(client.rootObject().thenCompose(r -> r.callRemote("enter")));
    assertThat(entered).isInstanceOf(RemoteReference.class);
    // the old session's reference is dead and says so at once
    assertThat(failureOf(session.callRemote("whoAmI")).code())
        .isEqualTo(PbException.Code.DEAD_REFERENCE);
  }

  @Test
  void firstConnectionIsRetriedUntilTheServerAppears() throws Exception {
    PbServer probe = server(0, 0);
    int port = probe.port();
    probe.shutdown();
    assertThat(probe.awaitTermination(WAIT)).isTrue();
    Recorder recorder = new Recorder();
    PbClient client = client(port, recorder, FAST).start();
    await().atMost(WAIT).until(() -> recorder.events.contains("RECONNECTING 2"));
    assertThat(client.session()).isNotDone();
    server(port, 3);
    assertThat(get(get(client.session()).callRemote("whoAmI"))).isEqualTo("server 3 session 1");
  }

  @Test
  void shutdownDuringBackoffStopsRetryingAndTerminates() throws Exception {
    PbServer first = server(0, 1);
    Recorder recorder = new Recorder();
    PbClient client =
        client(
            first.port(),
            recorder,
            ReconnectPolicy.exponential(Duration.ofSeconds(30), Duration.ofSeconds(60)));
    get(client.session());
    first.shutdown();
    assertThat(first.awaitTermination(WAIT)).isTrue();
    await().atMost(WAIT).until(() -> recorder.events.contains("RECONNECTING 1"));
    CompletableFuture<RemoteReference> next = client.session();

    client.shutdown();
    // terminates well before the 30 s backoff would have ended
    assertThat(client.awaitTermination(Duration.ofSeconds(5))).isTrue();
    assertThat(failureOf(next).code()).isEqualTo(PbException.Code.SHUTDOWN);
    await().atMost(WAIT).until(() -> recorder.events.contains("STOPPED SHUTDOWN"));
    assertThat(recorder.events)
        .containsExactly(
            "CONNECTED", "DISCONNECTED CONNECTION_LOST", "RECONNECTING 1", "STOPPED SHUTDOWN");
  }

  @Test
  void failedSessionInitializerStopsTheClientInsteadOfRetrying() throws Exception {
    PbServer server = server(0, 1);
    Recorder recorder = new Recorder();
    PbClient client =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", server.port())
                .reconnect(FAST)
                .onSession(
                    root ->
                        CompletableFuture.failedFuture(
                            new PbException(PbException.Code.UNAUTHORIZED, "unauthorized login")))
                .listener(recorder)
                .build());
    assertThat(failureOf(client.session()).code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    await().atMost(WAIT).until(() -> recorder.events.contains("STOPPED UNAUTHORIZED"));
    assertThat(recorder.events).containsExactly("STOPPED UNAUTHORIZED");
    await().atMost(WAIT).until(() -> server.connections().isEmpty());
  }

  @Test
  void withoutReconnectPolicyALostConnectionFailsTheSession() throws Exception {
    PbServer server = server(0, 1);
    Recorder recorder = new Recorder();
    PbClient client = client(server.port(), recorder, null);
    RemoteReference session = get(client.session());
    CompletableFuture<Object> pending = session.callRemote("never");
    server.shutdown();
    assertThat(failureOf(pending).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    await().atMost(WAIT).until(() -> client.session().isCompletedExceptionally());
    assertThat(failureOf(client.session()).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(failureOf(client.rootObject()).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    await().atMost(WAIT).until(() -> recorder.events.size() == 3);
    assertThat(recorder.events)
        .containsExactly("CONNECTED", "DISCONNECTED CONNECTION_LOST", "STOPPED CONNECTION_LOST");
  }
}
