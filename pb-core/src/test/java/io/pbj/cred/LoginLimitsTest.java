package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The portal's limits on password guessing, over TCP on loopback (the address is what the
 * throttle groups by) with a fake clock: nothing sleeps, and each delay is the time the test had
 * to move the clock before the failure was answered.
 */
@Timeout(120)
class LoginLimitsTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final Map<String, ScramVerifier> ACCOUNTS =
      Map.of("alice", ScramVerifier.derive("secret"), "bob", ScramVerifier.derive("hunter2"));

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final FakeClock clock = new FakeClock();
  final List<String> audit = new CopyOnWriteArrayList<>();
  final AtomicInteger lookups = new AtomicInteger();

  /** A logged-in user. */
  public static final class Player implements Referenceable {
    final String name;

    Player(String name) {
      this.name = name;
    }

    @Remote
    public String name() {
      return name;
    }
  }

  Portal portal(Consumer<Portal.Builder> options) {
    Portal.Builder b =
        Portal.builder(
                (id, mind, connection) ->
                    CompletableFuture.completedFuture(Avatar.of(new Player(id.name()))))
            .checker(
                PasswordChecker.builder()
                    .lookup(
                        name -> {
                          lookups.incrementAndGet();
                          return Optional.ofNullable(ACCOUNTS.get(name));
                        })
                    .build())
            .clock(clock)
            .auditSink(audit::add);
    options.accept(b);
    return b.build();
  }

  PbServer tcpServer(Portal portal, String host) {
    return cleanup.register(
        PbServer.builder().address(host, 0).rootFactory(portal::root).build().start());
  }

  RemoteReference connect(PbServer server, String host) {
    return cleanup
        .register(PbClient.builder().address(host, server.port()).build())
        .rootObject()
        .join();
  }

  RemoteReference connect(PbServer server) {
    return connect(server, "127.0.0.1");
  }

  /** What a login attempt got: a success (code null) or a failure, and how long it waited. */
  record Outcome(Code code, String message, long delayMillis) {
    static Outcome refused() {
      return new Outcome(Code.UNAUTHORIZED, LoginRoot.THROTTLED, 0);
    }
  }

  /** One login, moving the fake clock through its delay if it has one. */
  Outcome attempt(RemoteReference root, String user, String password) throws Exception {
    CompletableFuture<RemoteReference> login =
        Login.login(root, Credentials.password(user, password), null);
    long delayed = 0;
    while (true) {
      soon().until(() -> login.isDone() || clock.hasDelayedFailure());
      if (login.isDone()) {
        break;
      }
      delayed += clock.advanceToNextDelayedFailure();
    }
    long millis = TimeUnit.NANOSECONDS.toMillis(delayed);
    try {
      login.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      return new Outcome(null, null, millis);
    } catch (ExecutionException e) {
      PbException failure = (PbException) e.getCause();
      return new Outcome(failure.code(), failure.detail(), millis);
    }
  }

  /** {@code attempts} guesses of {@code user}'s password, on as many connections as it takes. */
  List<Outcome> guess(PbServer server, String user, int attempts) throws Exception {
    List<Outcome> outcomes = new ArrayList<>();
    while (outcomes.size() < attempts) {
      RemoteReference root = connect(server);
      for (int i = 0; i < Portal.DEFAULT_MAX_FAILED_LOGINS && outcomes.size() < attempts; i++) {
        outcomes.add(attempt(root, user, "guess-" + outcomes.size()));
      }
    }
    return outcomes;
  }

  /** Awaitility polling often: each attempt waits for a loopback round trip. */
  static ConditionFactory soon() {
    return await().atMost(WAIT).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1));
  }

  static PbException failureOf(CompletableFuture<?> f) {
    try {
      f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return (PbException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError("expected the future to fail, got " + e, e);
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  // ---- per account ----

  @Test
  void manyConnectionsGuessingOneAccountAreDelayedThenRefused() throws Exception {
    Portal portal = portal(b -> b.addressThrottle(1000, Duration.ofHours(1)));
    PbServer server = tcpServer(portal, "127.0.0.1");
    List<RemoteReference> connections = new ArrayList<>();
    List<Outcome> outcomes = new ArrayList<>();
    for (int c = 0; c < 8; c++) {
      RemoteReference root = connect(server);
      connections.add(root);
      for (int i = 0; i < 5; i++) {
        outcomes.add(attempt(root, "alice", "guess-" + c + "-" + i));
      }
    }

    // the default account limit: 10 password checks, whatever the number of connections
    assertThat(portal.throttle().passwordChecks()).isEqualTo(10);
    assertThat(outcomes.subList(0, 10))
        .extracting(Outcome::message)
        .containsOnly(LoginRoot.UNAUTHORIZED_LOGIN);
    assertThat(outcomes.subList(0, 10))
        .extracting(Outcome::delayMillis)
        .containsExactly(0L, 0L, 0L, 250L, 500L, 1000L, 2000L, 4000L, 8000L, 8000L);
    assertThat(outcomes.subList(10, 40)).containsOnly(Outcome.refused());
    // every connection was closed after its 5 failures
    await().atMost(WAIT).until(() -> connections.stream().noneMatch(RemoteReference::isConnected));

    // while the count is full the owner is refused too: the documented price
    assertThat(attempt(connect(server), "alice", "secret")).isEqualTo(Outcome.refused());
    // one drain period (15 minutes / 10) later the owner gets in, and the count starts over
    clock.advance(Duration.ofSeconds(90));
    assertThat(attempt(connect(server), "alice", "secret").code()).isNull();
    assertThat(portal.throttle().accountScore(portal.throttle().accountKey("alice"))).isZero();
  }

  @Test
  void unknownUserAndWrongPasswordGetTheSameAnswersAfterTheSameDelays() throws Exception {
    List<Outcome> wrongPassword = guess(tcpServer(portal(b -> {}), "127.0.0.1"), "alice", 15);
    List<Outcome> unknownUser = guess(tcpServer(portal(b -> {}), "127.0.0.1"), "mallory", 15);

    assertThat(unknownUser).isEqualTo(wrongPassword);
    // the sequences went through every phase: free, delayed and refused
    assertThat(wrongPassword).extracting(Outcome::delayMillis).contains(0L, 250L, 8000L);
    assertThat(wrongPassword).contains(Outcome.refused());
    assertThat(wrongPassword.get(0))
        .isEqualTo(new Outcome(Code.UNAUTHORIZED, LoginRoot.UNAUTHORIZED_LOGIN, 0));
  }

  // ---- per address ----

  @Test
  void oneAddressGuessingManyAccountsIsDelayedThenRefused() throws Exception {
    Portal portal = portal(b -> b.addressThrottle(12, Duration.ofHours(1)));
    PbServer server = tcpServer(portal, "127.0.0.1");
    List<Outcome> outcomes = new ArrayList<>();
    int n = 0;
    while (outcomes.size() < 30) {
      RemoteReference root = connect(server);
      for (int i = 0; i < 5; i++) {
        outcomes.add(attempt(root, "user" + n++, "guess"));
      }
    }

    assertThat(portal.throttle().passwordChecks()).isEqualTo(12);
    // refused at scramStart: the password lookup was not even made
    assertThat(lookups.get()).isEqualTo(12);
    assertThat(outcomes.subList(0, 12))
        .extracting(Outcome::delayMillis)
        .containsExactly(0L, 0L, 0L, 250L, 500L, 1000L, 2000L, 4000L, 8000L, 8000L, 8000L, 8000L);
    assertThat(outcomes.subList(12, 30)).containsOnly(Outcome.refused());
  }

  @ParameterizedTest
  @ValueSource(strings = {"in-process", "::1"})
  void legitimateUserOnAnotherAddressLogsInWhileAnAttackRuns(String elsewhere) throws Exception {
    if (elsewhere.equals("::1")) {
      assumeTrue(ipv6LoopbackWorks(), "no IPv6 loopback on this machine");
    }
    Portal portal = portal(b -> b.failureDelay(Duration.ZERO, Duration.ZERO));
    PbServer attacked = tcpServer(portal, "127.0.0.1");
    RemoteReference legitimate;
    if (elsewhere.equals("in-process")) {
      String name = "login-limits-" + UUID.randomUUID();
      cleanup.register(PbServer.builder().inProcess(name).rootFactory(portal::root).build().start());
      legitimate = cleanup.register(PbClient.builder().inProcess(name).build()).rootObject().join();
    } else {
      legitimate = connect(tcpServer(portal, "::1"), "::1");
    }

    // bob's account, then the attacker's address, are worn out from 127.0.0.1
    List<Outcome> onBob = guess(attacked, "bob", 15);
    assertThat(onBob.subList(10, 15)).containsOnly(Outcome.refused());
    List<Outcome> spray = new ArrayList<>();
    for (int n = 0; spray.size() < 50; n++) {
      RemoteReference root = connect(attacked);
      for (int i = 0; i < 5; i++) {
        spray.add(attempt(root, "spray" + n + "-" + i, "guess"));
      }
    }
    assertThat(spray.get(spray.size() - 1)).isEqualTo(Outcome.refused());
    assertThat(attempt(connect(attacked), "alice", "secret")).isEqualTo(Outcome.refused());

    // alice, from another address, logs in at once; bob's account stays refused from anywhere
    assertThat(attempt(legitimate, "alice", "secret")).isEqualTo(new Outcome(null, null, 0));
    assertThat(attempt(connect(attacked), "bob", "hunter2")).isEqualTo(Outcome.refused());
  }

  static boolean ipv6LoopbackWorks() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName("::1"), 0));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  // ---- per connection ----

  @Test
  void scramStartFloodOnOneConnectionIsBounded() throws Exception {
    Portal portal = portal(b -> {});
    RemoteReference root = connect(tcpServer(portal, "127.0.0.1"));
    List<CompletableFuture<String>> starts = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      starts.add(
          root.callRemote(String.class, "scramStart", new Scram.Client("alice", "x").clientFirst()));
    }
    int challenges = 0;
    for (CompletableFuture<String> start : starts) {
      try {
        start.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        challenges++;
      } catch (ExecutionException e) {
        // refused once the connection is locked, or lost once it is closed
      }
    }

    // each challenge left unanswered counted as a failed attempt: 5, then a closed connection
    assertThat(challenges).isEqualTo(Portal.DEFAULT_MAX_FAILED_LOGINS);
    assertThat(lookups.get()).isEqualTo(Portal.DEFAULT_MAX_FAILED_LOGINS);
    await().atMost(WAIT).until(() -> !root.isConnected());
    // and each counted against the address
    LoginThrottle t = portal.throttle();
    assertThat(t.addressScore(t.addressKey("127.0.0.1")))
        .isEqualTo(Portal.DEFAULT_MAX_FAILED_LOGINS);
  }

  @Test
  void clientThatDoesNotWaitForADelayedFailureIsRefusedWithoutAPasswordCheck() throws Exception {
    Portal portal = portal(b -> {});
    PbServer server = tcpServer(portal, "127.0.0.1");
    guess(server, "alice", 3); // the free failures
    RemoteReference root = connect(server);
    Scram.Client client = new Scram.Client("alice", "wrong");
    String serverFirst =
        root.callRemote(String.class, "scramStart", client.clientFirst()).get(10, TimeUnit.SECONDS);
    CompletableFuture<Object> finish =
        root.callRemote("scramFinish", client.clientFinal(serverFirst), null);
    await().atMost(WAIT).until(clock::hasDelayedFailure);
    long checks = portal.throttle().passwordChecks();

    PbException early =
        failureOf(
            root.callRemote(
                String.class, "scramStart", new Scram.Client("alice", "again").clientFirst()));
    assertThat(early.code()).isEqualTo(Code.UNAUTHORIZED);
    assertThat(early.detail())
        .isEqualTo("the last failed login on this connection has not been answered yet");
    assertThat(finish).isNotDone();
    assertThat(portal.throttle().passwordChecks()).isEqualTo(checks);

    assertThat(TimeUnit.NANOSECONDS.toMillis(clock.advanceToNextDelayedFailure())).isEqualTo(250);
    assertThat(failureOf(finish).detail()).isEqualTo(LoginRoot.UNAUTHORIZED_LOGIN);
    // answered: the connection may try again (its 2 failures are below its limit of 5)
    assertThat(attempt(root, "alice", "secret").code()).isNull();
  }

  // ---- audit ----

  @Test
  void failedLoginsAreAuditedWithoutPasswordsOrProofs() throws Exception {
    PbServer server = tcpServer(portal(b -> {}), "127.0.0.1");
    RemoteReference root = connect(server);
    String password = "correct horse battery staple";
    assertThat(attempt(root, "alice", password).message()).isEqualTo(LoginRoot.UNAUTHORIZED_LOGIN);
    assertThat(attempt(root, "mallory", password).message())
        .isEqualTo(LoginRoot.UNAUTHORIZED_LOGIN);
    assertThat(attempt(root, "alice", "secret").code()).isNull();

    assertThat(audit)
        .containsExactly(
            "failed login for account 'alice' from 127.0.0.1: wrong password",
            "failed login for account 'mallory' from 127.0.0.1: unknown user");
    assertThat(audit).noneMatch(l -> l.contains("horse") || l.contains("p=") || l.contains("secret"));
  }

  @Test
  void auditOfAnAttackIsRateLimited() throws Exception {
    PbServer server = tcpServer(portal(b -> b.addressThrottle(1000, Duration.ofHours(1))), "127.0.0.1");
    guess(server, "alice", 40); // 10 failures, 30 refusals

    assertThat(audit).hasSize(LoginAudit.LINES_PER_KEY);
    audit.clear();
    clock.advance(Duration.ofSeconds(60));
    assertThat(audit).contains("40 failed logins for account 'alice' in the last 60 s");
    assertThat(audit).hasSizeLessThanOrEqualTo(1 + 2 * LoginAudit.TOP_KEYS);
  }
}
