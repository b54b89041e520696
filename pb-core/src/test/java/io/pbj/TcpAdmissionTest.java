package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.Root;
import io.pbj.cred.AnonymousChecker;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.Portal;
import io.pbj.internal.Connection;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who gets in, and for how long, over TCP: the handshake and login deadlines, the connection
 * caps and their polite refusal.
 */
@Timeout(120)
class TcpAdmissionTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final Duration SHORT = Duration.ofMillis(300);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final List<PbException> disconnects = new CopyOnWriteArrayList<>();
  final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void closeSockets() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
  }

  PbServer server(Consumer<PbServer.Builder> options) {
    PbServer.Builder b =
        PbServer.builder()
            .address("127.0.0.1", 0)
            .root(new Root())
            .onDisconnect((c, e) -> disconnects.add(e));
    options.accept(b);
    return cleanup.register(b.build().start());
  }

  PbClient client(PbServer server) {
    return cleanup.register(PbClient.builder().address("127.0.0.1", server.port()).build());
  }

  Socket socket(PbServer server) throws IOException {
    Socket s = new Socket("127.0.0.1", server.port());
    sockets.add(s);
    return s;
  }

  /** Waits until the server has closed every one of {@code peers}. */
  static void awaitClosedByServer(List<Socket> peers) {
    java.util.Set<Socket> open = new java.util.HashSet<>(peers);
    await()
        .atMost(WAIT)
        .until(
            () -> {
              open.removeIf(
                  s -> {
                    try {
                      return RawSockets.isClosedByServer(s);
                    } catch (IOException e) {
                      return true;
                    }
                  });
              return open.isEmpty();
            });
  }

  static void assertStillServes(PbServer server, PbClient client) throws Exception {
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "in").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("in");
  }

  // ---- the handshake deadline ----

  void assertAllClosedAtTheHandshakeDeadline(PbServer server, List<Socket> peers)
      throws Exception {
    awaitClosedByServer(peers);
    await().atMost(WAIT).until(() -> disconnects.size() >= peers.size());
    assertThat(disconnects)
        .allSatisfy(
            e -> {
              assertThat(e).hasMessageContaining("no handshake within 300 ms");
              assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
            });
    assertThat(server.admission().open()).isZero();
  }

  @Test
  void silentConnectionsAreClosedAtTheHandshakeDeadline() throws Exception {
    PbServer server = server(b -> b.handshakeTimeout(SHORT).maxConnectionsPerAddress(0));
    List<Socket> peers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      peers.add(socket(server));
    }
    assertAllClosedAtTheHandshakeDeadline(server, peers);
    assertStillServes(server, client(server));
  }

  @Test
  void preambleOnlyConnectionsAreClosedAtTheHandshakeDeadline() throws Exception {
    PbServer server = server(b -> b.handshakeTimeout(SHORT).maxConnectionsPerAddress(0));
    List<Socket> peers = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      Socket s = socket(server);
      s.getOutputStream().write(RawPeer.preamble());
      peers.add(s);
    }
    assertAllClosedAtTheHandshakeDeadline(server, peers);
    assertStillServes(server, client(server));
  }

  @Test
  void aByteAtATimeDoesNotKeepAConnectionThroughTheHandshakeDeadline() throws Exception {
    // bytes arrive far more often than the keep-alive timeout, as a slowloris sends them
    PbServer server =
        server(b -> b.handshakeTimeout(SHORT).keepAlive(Duration.ofMillis(500), Duration.ofSeconds(5)));
    Socket s = socket(server);
    byte[] handshake = RawPeer.concat(RawPeer.preamble(), RawPeer.hello());
    CompletableFuture<Void> trickle =
        RawSockets.trickle(s, handshake);
    assertAllClosedAtTheHandshakeDeadline(server, List.of(s));
    trickle.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  // ---- the login deadline ----

  /** The avatar of the login tests. */
  public static final class Player implements Referenceable {
    @Remote
    public String hello() {
      return "hello";
    }
  }

  PbServer portalServer(Duration loginTimeout) {
    Portal portal =
        Portal.builder(
                (id, mind, connection) ->
                    CompletableFuture.completedFuture(Avatar.of(new Player())))
            .checker(AnonymousChecker.allow())
            .build();
    return cleanup.register(
        PbServer.builder()
            .address("127.0.0.1", 0)
            .rootFactory(portal::root)
            .loginTimeout(loginTimeout)
            .onDisconnect((c, e) -> disconnects.add(e))
            .build()
            .start());
  }

  @Test
  void aConnectionThatDoesNotLogInIsClosedAtTheLoginDeadline() throws Exception {
    PbServer server = portalServer(SHORT);
    CompletableFuture<PbException> lost = new CompletableFuture<>();
    PbClient idle =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", server.port())
                .onDisconnect(lost::complete)
                .build());
    idle.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    PbException e = lost.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(e).hasMessageContaining("not logged in within 300 ms");
    await().atMost(WAIT).until(() -> !disconnects.isEmpty());
    assertThat(disconnects.get(0).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
  }

  @Test
  void aLoggedInConnectionOutlivesTheDeadlineAndALogoutStartsItAgain() throws Exception {
    PbServer server = portalServer(SHORT);
    CompletableFuture<PbException> lost = new CompletableFuture<>();
    PbClient player =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", server.port())
                .onDisconnect(lost::complete)
                .build());
    RemoteReference avatar =
        Login.login(
                player.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS),
                Credentials.anonymous(),
                null)
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    // a connection that never logs in, opened after the player: once it is gone, the player
    // has been connected longer than the deadline
    PbClient stranger = client(server);
    stranger.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> !disconnects.isEmpty());
    assertThat(lost).isNotDone();
    assertThat(avatar.callRemote("hello").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("hello");

    avatar.close(); // logout: the deadline starts again
    PbException e = lost.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(e).hasMessageContaining("not logged in within 300 ms");
  }

  // ---- the connection caps ----

  @Test
  void overTheConnectionCapAClientIsToldTheServerIsFull() throws Exception {
    PbServer server = server(b -> b.maxConnections(3).maxConnectionsPerAddress(0));
    List<PbClient> in = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      PbClient c = client(server);
      assertStillServes(server, c);
      in.add(c);
    }
    PbClient fourth = client(server);
    assertThatThrownBy(() -> fourth.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            PbException.class,
            e -> {
              assertThat(e.code()).isEqualTo(PbException.Code.CONNECT_FAILED);
              assertThat(e)
                  .hasMessageContaining("refused the connection")
                  .hasMessageContaining("the server is full (3 connections)");
            });
    assertThat(server.connections()).hasSize(3);
    await().atMost(WAIT).until(() -> server.admission().refusing() == 0);

    // a place frees up: a newcomer gets in
    in.get(0).close();
    await().atMost(WAIT).until(() -> server.admission().open() == 2);
    assertStillServes(server, client(server));
  }

  @Test
  void aRefusedPeerThatKeepsItsEndOpenIsClosedAfterTheGrace() throws Exception {
    PbServer server = server(b -> b.maxConnections(1).maxConnectionsPerAddress(0));
    PbClient inside = client(server);
    assertStillServes(server, inside);
    Socket s = socket(server);
    // it reads the preamble and the goodbye, then the server's end of the stream
    InputStream stream = s.getInputStream();
    s.setSoTimeout((int) WAIT.toMillis());
    byte[] got = stream.readAllBytes();
    assertThat(Arrays.copyOf(got, 6)).isEqualTo(RawPeer.preamble());
    assertThat(got[6 + 5]).as("the message type: GOODBYE").isEqualTo((byte) 6);
    assertThat(new String(got, 6 + 6, got.length - 12, StandardCharsets.UTF_8))
        .contains("the server is full (1 connections)");
    // it never closes its end; the server closes the descriptor anyway
    await().atMost(WAIT).until(() -> server.admission().refusing() == 0);
    assertThat(server.admission().open()).isEqualTo(1);
  }

  @Test
  void aFloodOfRefusedConnectionsIsClosedAndReleased() throws Exception {
    PbServer server = server(b -> b.maxConnections(1).maxConnectionsPerAddress(0));
    assertStillServes(server, client(server));
    List<Socket> flood = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      flood.add(socket(server)); // none of them closes its end
    }
    awaitClosedByServer(flood);
    await().atMost(WAIT).until(() -> server.admission().refusing() == 0);
    assertThat(server.admission().open()).isEqualTo(1);
  }

  @Test
  void overThePerAddressCapOthersStillGetIn() throws Exception {
    InetAddress other = InetAddress.getByName("127.0.0.2");
    Socket probe = new Socket();
    try {
      probe.bind(new InetSocketAddress(other, 0));
    } catch (IOException e) {
      assumeThat(false).as("127.0.0.2 is not usable here: " + e).isTrue();
    } finally {
      probe.close();
    }
    PbServer server = server(b -> b.maxConnectionsPerAddress(2));
    assertStillServes(server, client(server));
    assertStillServes(server, client(server));
    PbClient third = client(server);
    assertThatThrownBy(() -> third.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .cause()
        .isInstanceOfSatisfying(
            PbException.class,
            e -> {
              assertThat(e.code()).isEqualTo(PbException.Code.CONNECT_FAILED);
              assertThat(e).hasMessageContaining("too many connections from 127.0.0.1 (2)");
            });
    // another address gets the server's HELLO, not a goodbye
    Socket s = new Socket();
    sockets.add(s);
    s.bind(new InetSocketAddress(other, 0));
    s.connect(new InetSocketAddress("127.0.0.1", server.port()));
    s.setSoTimeout((int) WAIT.toMillis());
    byte[] first = s.getInputStream().readNBytes(6 + 5 + 1);
    assertThat(first[6 + 5]).as("the message type: HELLO").isEqualTo((byte) 0);
    assertThat(server.admission().open()).isEqualTo(3);
  }

  // ---- keep-alive on by default ----

  @Test
  void aServerKeepsAliveByDefaultAndCanBeToldNotTo() throws Exception {
    PbServer byDefault = server(b -> {});
    client(byDefault).rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> byDefault.connections().size() == 1);
    Connection c = (Connection) byDefault.connections().iterator().next();
    assertThat(c.channel().pipeline().get("idle")).isNotNull();

    PbServer off = server(b -> b.keepAlive(Duration.ZERO, Duration.ZERO));
    PbClient client = client(off);
    client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> off.connections().size() == 1);
    assertThat(((Connection) off.connections().iterator().next()).channel().pipeline().get("idle"))
        .isNull();
    assertThat(((Connection) client.connection().join()).channel().pipeline().get("idle"))
        .as("a client's default")
        .isNull();
  }

  @Test
  void admissionOptionsAreValidatedAndSetOnce() {
    assertThatThrownBy(() -> PbServer.builder().handshakeTimeout(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.handshakeTimeout must be zero (off) or positive");
    assertThatThrownBy(() -> PbServer.builder().loginTimeout(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.loginTimeout");
    assertThatThrownBy(() -> PbServer.builder().maxConnections(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.maxConnections must be zero (off) or positive, got -1");
    assertThatThrownBy(() -> PbServer.builder().maxConnectionsPerAddress(-2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.maxConnectionsPerAddress");
    assertThatThrownBy(() -> PbServer.builder().keepAlive(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keepAlive interval must be positive");
    PbServer.Builder b =
        PbServer.builder().handshakeTimeout(Duration.ZERO).maxConnections(0).loginTimeout(SHORT);
    assertThatThrownBy(() -> b.handshakeTimeout(SHORT))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbServer.Builder.handshakeTimeout was already set");
    assertThatThrownBy(() -> b.maxConnections(5))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxConnections was already set");
    assertThatThrownBy(() -> b.loginTimeout(SHORT))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("loginTimeout was already set");
  }
}
