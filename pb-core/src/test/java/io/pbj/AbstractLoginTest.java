package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.cred.AnonymousChecker;
import io.pbj.cred.Avatar;
import io.pbj.cred.AvatarId;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.cred.Realm;
import io.pbj.cred.ScramTestClient;
import io.pbj.cred.ScramVerifier;
import io.pbj.internal.Connection;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Login through a {@link Portal}, over every transport. Ports of Twisted's cred scenarios in
 * {@code twisted.spread.test.test_pb} ({@code NewCredTests}, {@code AnonymousTests}) plus the
 * SCRAM properties: replay, forgery, connection binding, mutual authentication.
 */
abstract class AbstractLoginTest extends AbstractPbTest {
  final TestRealm realm = new TestRealm();

  // ---- fixtures ----

  /** The client's callback object. */
  public static final class Mind implements Referenceable {
    @Remote
    public String greet(String text) {
      return "mind got " + text;
    }
  }

  /** The avatar the realm hands out. */
  public static final class User implements Referenceable {
    final AvatarId id;
    final RemoteReference mind;

    User(AvatarId id, RemoteReference mind) {
      this.id = id;
      this.mind = mind;
    }

    @Remote
    public String name() {
      return id.anonymous() ? "<anonymous>" : id.name();
    }

    @Remote
    public CompletableFuture<Object> greetMind(String text) {
      return mind.callRemote("greet", text);
    }

    @Remote
    public Lobby lobby() {
      return LOBBY;
    }
  }

  /** One view shared by every user: each call sees the caller's own avatar. */
  static final Lobby LOBBY = new Lobby();

  static final class Lobby implements Viewable {
    @Remote
    public String whoAmI(Object perspective, String greeting) {
      return greeting + ", " + ((User) perspective).name();
    }
  }

  /** Keeps each live avatar's mind in a map that logout clears, as a chat server would. */
  static final class TestRealm implements Realm {
    final Map<Integer, RemoteReference> minds = new ConcurrentHashMap<>();
    final List<String> logins = new CopyOnWriteArrayList<>();
    final List<String> logouts = new CopyOnWriteArrayList<>();
    final List<WeakReference<RemoteReference>> mindsSeen = new CopyOnWriteArrayList<>();
    final AtomicInteger next = new AtomicInteger();

    @Override
    public CompletableFuture<Avatar> requestAvatar(
        AvatarId id, RemoteReference mind, PbConnection connection) {
      int key = next.incrementAndGet();
      logins.add(id.name());
      if (mind != null) {
        minds.put(key, mind);
        mindsSeen.add(new WeakReference<>(mind));
      }
      return CompletableFuture.completedFuture(
          new Avatar(
              new User(id, mind),
              () -> {
                minds.remove(key);
                logouts.add(id.name());
              }));
    }
  }

  PasswordChecker passwords() {
    return PasswordChecker.builder().user("alice", "secret").user("bob", "hunter2").build();
  }

  PbServer startPortal(Consumer<Portal.Builder> portalOptions) {
    Portal.Builder b = Portal.builder(realm);
    portalOptions.accept(b);
    Portal portal = b.build();
    return cleanup.register(serverBuilder().rootFactory(portal::root).build().start());
  }

  PbServer startPasswordServer() {
    return startPortal(p -> p.checker(passwords()));
  }

  @Override
  RemoteReference connect(PbServer server) {
    return cleanup.register(clientBuilder(server).build()).rootObject().join();
  }

  static PbException failureOf(CompletableFuture<?> f) {
    try {
      f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      assertThat(e.getCause()).isInstanceOf(PbException.class);
      return (PbException) e.getCause();
    } catch (Exception e) {
      throw new AssertionError("expected the future to fail, got " + e, e);
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  static void assertUnauthorizedLogin(CompletableFuture<?> f) {
    PbException e = failureOf(f);
    assertThat(e.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(e.detail()).isEqualTo("unauthorized login");
  }

  /** The server end of the only connection to {@code server}. */
  static Connection serverSide(PbServer server) {
    await().atMost(WAIT).until(() -> server.connections().size() == 1);
    return (Connection) server.connections().iterator().next();
  }

  // ---- login and logout ----

  @Test
  void loginGivesTheAvatarWhichCanCallBackTheMindAndDisconnectLogsOut() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    Mind mind = new Mind();
    RemoteReference avatar = get(Login.login(root, Credentials.password("alice", "secret"), mind));

    assertThat(get(avatar.callRemote("name"))).isEqualTo("alice");
    assertThat(get(avatar.callRemote("greetMind", "hi"))).isEqualTo("mind got hi");
    assertThat(serverSide(server).perspective()).isInstanceOf(User.class);
    assertThat(realm.logouts).isEmpty();

    avatar.connection().close();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
    assertThat(realm.logouts).containsExactly("alice");
    assertThat(realm.minds).isEmpty();
  }

  @Test
  void releasingTheAvatarLogsOutOnceAndTheConnectionCanLogInAgain() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    Connection serverEnd = serverSide(server);
    RemoteReference avatar = get(Login.login(root, Credentials.password("alice", "secret"), null));
    assertThat(serverEnd.perspective()).isNotNull();

    avatar.release();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
    assertThat(realm.logouts).containsExactly("alice");
    assertThat(serverEnd.perspective()).isNull();
    assertThat(root.isConnected()).isTrue();

    RemoteReference again = get(Login.login(root, Credentials.password("bob", "hunter2"), null));
    assertThat(get(again.callRemote("name"))).isEqualTo("bob");
    root.connection().close();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 2);
    assertThat(realm.logouts).containsExactly("alice", "bob");
  }

  @Test
  void concurrentLoginsGetDistinctAvatars() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference first = connect(server);
    RemoteReference second = connect(server);
    RemoteReference third = connect(server);
    CompletableFuture<RemoteReference> alice =
        Login.login(first, Credentials.password("alice", "secret"), new Mind());
    CompletableFuture<RemoteReference> bob =
        Login.login(second, Credentials.password("bob", "hunter2"), new Mind());
    CompletableFuture<RemoteReference> aliceAgain =
        Login.login(third, Credentials.password("alice", "secret"), new Mind());

    assertThat(get(get(alice).callRemote("name"))).isEqualTo("alice");
    assertThat(get(get(bob).callRemote("name"))).isEqualTo("bob");
    assertThat(get(get(aliceAgain).callRemote("name"))).isEqualTo("alice");
    Set<Object> perspectives = ConcurrentHashMap.newKeySet();
    for (PbConnection c : server.connections()) {
      perspectives.add(((Connection) c).perspective());
    }
    assertThat(perspectives).hasSize(3).doesNotContainNull();
    assertThat(realm.logins).containsExactlyInAnyOrder("alice", "bob", "alice");
    assertThat(List.of(get(alice), get(bob), get(aliceAgain))).allMatch(RemoteReference::isConnected);
  }

  @Test
  void viewsReceiveThePerspectiveOfTheCallersLogin() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference alice =
        get(Login.login(connect(server), Credentials.password("alice", "secret"), null));
    RemoteReference bob =
        get(Login.login(connect(server), Credentials.password("bob", "hunter2"), null));
    RemoteReference aliceLobby = (RemoteReference) get(alice.callRemote("lobby"));
    RemoteReference bobLobby = (RemoteReference) get(bob.callRemote("lobby"));
    assertThat(get(aliceLobby.callRemote("whoAmI", "hello"))).isEqualTo("hello, alice");
    assertThat(get(bobLobby.callRemote("whoAmI", "hi"))).isEqualTo("hi, bob");
  }

  @Test
  void secondLoginOnOneConnectionIsRefusedWhileTheFirstIsLive() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    RemoteReference avatar = get(Login.login(root, Credentials.password("alice", "secret"), null));

    PbException e = failureOf(Login.login(root, Credentials.password("bob", "hunter2"), null));
    assertThat(e.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(e.detail()).contains("already logged in");
    assertThat(get(avatar.callRemote("name"))).isEqualTo("alice");
    assertThat(realm.logins).containsExactly("alice");
  }

  // ---- wrong credentials ----

  @Test
  void badUsernameAndBadPasswordFailTheSameWay() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    PbException badUser = failureOf(Login.login(root, Credentials.password("mallory", "secret"), null));
    PbException badPassword = failureOf(Login.login(root, Credentials.password("alice", "wrong"), null));

    assertThat(badUser.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(badUser.code()).isEqualTo(badPassword.code());
    assertThat(badUser.detail()).isEqualTo("unauthorized login").isEqualTo(badPassword.detail());
    assertThat(badUser.getMessage()).isEqualTo(badPassword.getMessage());
    assertThat(realm.logins).isEmpty();
  }

  @Test
  void unknownUserIsChallengedLikeAKnownOneAndAlwaysTheSameWay() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    String known = get(root.callRemote(String.class, "scramStart", "n,,n=alice,r=nonce1"));
    String unknown = get(root.callRemote(String.class, "scramStart", "n,,n=mallory,r=nonce1"));
    String unknownAgain = get(root.callRemote(String.class, "scramStart", "n,,n=mallory,r=nonce1"));

    // r=<nonce>,s=<salt>,i=<iterations>: same shape, same salt length, same iterations
    String[] k = known.split(",");
    String[] u = unknown.split(",");
    assertThat(u).hasSameSizeAs(k);
    assertThat(Base64.getDecoder().decode(u[1].substring(2)))
        .hasSameSizeAs(Base64.getDecoder().decode(k[1].substring(2)));
    assertThat(u[2]).isEqualTo(k[2]);
    assertThat(unknownAgain.split(",")[1]).isEqualTo(u[1]);
    assertThat(unknownAgain.split(",")[0]).isNotEqualTo(u[0]);
  }

  @Test
  void tooManyFailedLoginsCloseTheConnection() throws Exception {
    PbServer server = startPortal(p -> p.checker(passwords()).maxFailedLogins(3));
    RemoteReference root = connect(server);
    for (int i = 0; i < 3; i++) {
      assertUnauthorizedLogin(Login.login(root, Credentials.password("alice", "guess" + i), null));
    }
    await().atMost(WAIT).until(() -> !root.isConnected());
    // a fresh connection starts with a clean slate
    RemoteReference fresh = connect(server);
    assertThat(get(get(Login.login(fresh, Credentials.password("alice", "secret"), null))
            .callRemote("name")))
        .isEqualTo("alice");
  }

  @Test
  void failureAfterTheFreeOnesIsAnsweredLaterByTheRealClock() throws Exception {
    // the fourth failure on an account is delayed (250 ms by default) by the portal's real
    // scheduler; the answer arrives, the same as the first three
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    for (int i = 0; i < 4; i++) {
      assertUnauthorizedLogin(Login.login(root, Credentials.password("alice", "guess" + i), null));
    }
    assertThat(root.isConnected()).isTrue();
    assertThat(get(get(Login.login(root, Credentials.password("alice", "secret"), null))
            .callRemote("name")))
        .isEqualTo("alice");
  }

  // ---- anonymous ----

  @Test
  void anonymousLoginWorksWhenAllowed() throws Exception {
    PbServer server = startPortal(p -> p.checker(AnonymousChecker.allow()));
    RemoteReference avatar = get(Login.login(connect(server), Credentials.anonymous(), new Mind()));
    assertThat(get(avatar.callRemote("name"))).isEqualTo("<anonymous>");
    assertThat(get(avatar.callRemote("greetMind", "anon"))).isEqualTo("mind got anon");
    avatar.release();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
  }

  @Test
  void anonymousLoginIsRefusedWithoutAnAnonymousChecker() {
    PbServer server = startPasswordServer();
    PbException e = failureOf(Login.login(connect(server), Credentials.anonymous(), null));
    assertThat(e.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(e.detail()).contains("anonymous login is not allowed");
    assertThat(realm.logins).isEmpty();
  }

  @Test
  void portalWithPasswordAndAnonymousCheckersAcceptsBoth() throws Exception {
    PbServer server =
        startPortal(p -> p.checker(passwords()).checker(AnonymousChecker.allow()));
    RemoteReference alice =
        get(Login.login(connect(server), Credentials.password("alice", "secret"), null));
    RemoteReference guest = get(Login.login(connect(server), Credentials.anonymous(), null));
    assertUnauthorizedLogin(
        Login.login(connect(server), Credentials.password("alice", "wrong"), null));

    assertThat(get(alice.callRemote("name"))).isEqualTo("alice");
    assertThat(get(guest.callRemote("name"))).isEqualTo("<anonymous>");
  }

  @Test
  void passwordLoginIsRefusedByAnAnonymousOnlyPortal() {
    PbServer server = startPortal(p -> p.checker(AnonymousChecker.allow()));
    PbException e =
        failureOf(Login.login(connect(server), Credentials.password("alice", "secret"), null));
    assertThat(e.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(e.detail()).contains("password login is not allowed");
  }

  // ---- lifetime ----

  @Test
  void mindIsNotLeakedAfterAnAbruptDisconnect() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    RemoteReference avatar =
        get(Login.login(root, Credentials.password("alice", "secret"), new Mind()));
    assertThat(get(avatar.callRemote("greetMind", "still there?"))).isEqualTo("mind got still there?");
    assertThat(realm.minds).hasSize(1);
    WeakReference<RemoteReference> serverSideMind = realm.mindsSeen.get(0);

    // no goodbye: the channel just goes away
    ((Connection) root.connection()).channel().close();

    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
    assertThat(realm.minds).isEmpty();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              System.gc();
              return serverSideMind.get() == null;
            });
  }

  @Test
  void logoutRunsOnceWhenTheAvatarIsReleasedAndThenTheConnectionCloses() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    RemoteReference avatar = get(Login.login(root, Credentials.password("alice", "secret"), null));
    avatar.release();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
    root.connection().close();
    await().atMost(WAIT).until(() -> server.connections().isEmpty());
    // a full login round-trip on another connection gives a stray second logout time to show
    RemoteReference other = connect(server);
    assertUnauthorizedLogin(Login.login(other, Credentials.password("alice", "nope"), null));
    assertThat(realm.logouts).containsExactly("alice");
  }

  @Test
  void beforeLoginOnlyTheLoginMethodsAreReachable() {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    PbException e = failureOf(root.callRemote("name"));
    assertThat(e.code()).isEqualTo(PbException.Code.NO_SUCH_METHOD);
    assertThat(serverSide(server).exportedCount()).isEqualTo(1);
  }

  // ---- the SCRAM exchange over the wire ----

  @Test
  void replayedProofFails() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference first = connect(server);
    ScramTestClient client = new ScramTestClient("alice", "secret");
    String serverFirst = get(first.callRemote(String.class, "scramStart", client.clientFirst()));
    String recorded = client.clientFinal(serverFirst);
    List<?> answer = get(first.callRemote(List.class, "scramFinish", recorded, null));
    assertThat(client.verifyServerFinal((String) answer.get(0))).isTrue();
    ((RemoteReference) answer.get(1)).release();
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);

    // replayed on the same connection once logged out: the challenge was used up
    assertUnauthorizedLogin(first.callRemote("scramFinish", recorded, null));

    // replayed on another connection, with no challenge, then after a fresh challenge
    RemoteReference second = connect(server);
    assertUnauthorizedLogin(second.callRemote("scramFinish", recorded, null));
    get(second.callRemote(String.class, "scramStart", client.clientFirst()));
    assertUnauthorizedLogin(second.callRemote("scramFinish", recorded, null));
    // and the challenge was single-use: a second answer finds nothing to answer
    assertUnauthorizedLogin(second.callRemote("scramFinish", recorded, null));
    assertThat(realm.logins).containsExactly("alice");
  }

  @Test
  void forgedProofFails() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    ScramTestClient client = new ScramTestClient("alice", "secret");
    String serverFirst = get(root.callRemote(String.class, "scramStart", client.clientFirst()));
    String clientFinal = client.clientFinal(serverFirst);
    int p = clientFinal.indexOf(",p=") + 3;
    byte[] proof = Base64.getDecoder().decode(clientFinal.substring(p));
    proof[0] ^= 1;
    String forged = clientFinal.substring(0, p) + Base64.getEncoder().encodeToString(proof);

    assertUnauthorizedLogin(root.callRemote("scramFinish", forged, null));
    // the genuine proof no longer helps: its challenge was consumed by the forged attempt
    assertUnauthorizedLogin(root.callRemote("scramFinish", clientFinal, null));
    assertThat(realm.logins).isEmpty();
  }

  @Test
  void challengeFromOneConnectionCannotBeAnsweredOnAnother() throws Exception {
    PbServer server = startPasswordServer();
    RemoteReference asked = connect(server);
    RemoteReference answering = connect(server);
    ScramTestClient client = new ScramTestClient("alice", "secret");
    String serverFirst = get(asked.callRemote(String.class, "scramStart", client.clientFirst()));
    get(answering.callRemote(String.class, "scramStart", client.clientFirst()));

    assertUnauthorizedLogin(answering.callRemote("scramFinish", client.clientFinal(serverFirst), null));
    assertThat(realm.logins).isEmpty();
  }

  @Test
  void serverThatCannotProveItHoldsTheVerifierFailsTheLoginAndLogsOut() throws Exception {
    ScramVerifier real = ScramVerifier.derive("secret");
    // right StoredKey (the client's proof passes) but a wrong ServerKey: an impostor's signature
    ScramVerifier impostor =
        ScramVerifier.parse(
            "SCRAM-SHA-256$" + real.iterations() + ":"
                + Base64.getEncoder().encodeToString(real.salt()) + "$"
                + Base64.getEncoder().encodeToString(real.storedKey()) + ":"
                + Base64.getEncoder().encodeToString(new byte[32]));
    PbServer server =
        startPortal(p -> p.checker(PasswordChecker.builder().user("alice", impostor).build()));
    PbException e =
        failureOf(Login.login(connect(server), Credentials.password("alice", "secret"), null));
    assertThat(e.code()).isEqualTo(PbException.Code.UNAUTHORIZED);
    assertThat(e.detail()).contains("failed to prove");
    await().atMost(WAIT).until(() -> realm.logouts.size() == 1);
  }

  // ---- bad input ----

  @Test
  void badInputFailsWithClearErrors() {
    assertThatThrownBy(() -> Credentials.password(null, "x"))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("username");
    assertThatThrownBy(() -> Credentials.password("  ", "x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("blank");
    assertThatThrownBy(() -> Credentials.password("alice", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("password");
    assertThatThrownBy(() -> Credentials.password("al\nice", "x"))
        .hasMessageContaining("control");
    assertThat(Credentials.password("alice", "secret").toString()).doesNotContain("secret");
    assertThatThrownBy(() -> Portal.builder(realm).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("checker");
    assertThatThrownBy(
            () -> Portal.builder(realm).checker(AnonymousChecker.allow()).checker(AnonymousChecker.allow()))
        .hasMessageContaining("AnonymousChecker");

    PbServer server = startPasswordServer();
    RemoteReference root = connect(server);
    PbException garbage = failureOf(root.callRemote("scramStart", "GET / HTTP/1.1"));
    assertThat(garbage.code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
    assertThat(garbage.detail()).contains("client-first");
    PbException blank = failureOf(root.callRemote("scramStart", "n,,n= ,r=abc"));
    assertThat(blank.detail()).contains("blank");
  }
}
