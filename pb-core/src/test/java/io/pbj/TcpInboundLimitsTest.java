package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.Root;
import io.pbj.cred.AnonymousChecker;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.Portal;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a server holds for messages still arriving, over TCP: the server-wide budget across many
 * connections, the time limit for finishing a message, and the smaller limit before login.
 */
@Timeout(120)
class TcpInboundLimitsTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final int MIB = 1 << 20;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final Root root = new Root();
  /** Why each connection closed, by the peer's port. */
  final Map<Integer, PbException> closed = new ConcurrentHashMap<>();

  PbServer server(java.util.function.Consumer<PbServer.Builder> options) {
    PbServer.Builder b =
        PbServer.builder()
            .address("127.0.0.1", 0)
            .root(root)
            .onDisconnect(
                (c, e) -> closed.put(((InetSocketAddress) c.remoteAddress()).getPort(), e));
    options.accept(b);
    return cleanup.register(b.build().start());
  }

  RemoteReference client(PbServer server) throws Exception {
    return cleanup
        .register(PbClient.builder().address("127.0.0.1", server.port()).build())
        .rootObject()
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  @Test
  void stalledMessagesOnManyConnectionsStayWithinTheServerBudget() throws Exception {
    long budget = 16L * MIB;
    PbServer server = server(b -> b.inboundBudget(budget).messageTimeout(Duration.ZERO));
    RemoteReference good = client(server);
    assertThat(good.callRemote("echo", "before").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("before");
    System.gc();
    long before = RawSockets.directMemory();

    // twelve connections, each starts a 64 MiB message, sends 4 MiB of it and stalls
    int peers = 12;
    int each = 4 * MIB;
    byte[] frame = RawPeer.frame(new byte[MIB - 1], true);
    List<Socket> sockets = new ArrayList<>();
    for (int i = 0; i < peers; i++) {
      Socket s = RawSockets.handshaken(server);
      sockets.add(s);
      OutputStream out = s.getOutputStream();
      try {
        for (int sent = 0; sent < each; sent += MIB - 1) {
          out.write(frame);
        }
      } catch (IOException e) {
        // closed by the server meanwhile
      }
    }
    // wait until the server has read everything or closed the connection
    await()
        .atMost(WAIT)
        .until(
            () -> {
              for (Socket s : sockets) {
                if (!closed.containsKey(s.getLocalPort()) && RawSockets.serverReceived(server, s) < each) {
                  return false;
                }
              }
              return true;
            });
    long held = RawSockets.directMemory() - before;
    // budget, plus the socket reads and pool chunks of the moment (in a full suite run, chunks
    // the allocator took for earlier tests' traffic too: up to about 12 MiB was seen); without
    // the budget the server held about 2 x 48 MiB here
    assertThat(held).as("direct memory the attack holds").isLessThanOrEqualTo(budget + 16L * MIB);
    // a refused connection closes once its goodbye's grace ends (these peers never read it)
    int over = peers - (int) (budget / each);
    await()
        .atMost(WAIT)
        .until(() -> sockets.stream().filter(s -> closed.containsKey(s.getLocalPort())).count()
            >= over);
    List<PbException> refused = new ArrayList<>();
    for (Socket s : sockets) {
      PbException e = closed.get(s.getLocalPort());
      if (e != null) {
        refused.add(e);
      }
    }
    assertThat(refused).hasSizeGreaterThanOrEqualTo(over);
    assertThat(refused)
        .allSatisfy(
            e ->
                assertThat(e)
                    .isInstanceOfSatisfying(
                        PbException.class,
                        c -> {
                          assertThat(c.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
                          assertThat(c)
                              .hasMessageContaining("budget for partly received messages")
                              .hasMessageContaining("16777216 bytes");
                        }));

    // the well-behaved client still works, a chunked 2 MiB argument included
    assertThat(good.callRemote("echo", "after").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("after");
    byte[] data = new byte[2 * MIB];
    data[0] = 1;
    byte[] reversed =
        (byte[]) good.callRemote("reverse", (Object) data).get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(reversed[reversed.length - 1]).isEqualTo((byte) 1);
    for (Socket s : sockets) {
      s.close();
    }
  }

  @Test
  void aMessageNotFinishedInTimeClosesItsConnection() throws Exception {
    PbServer server = server(b -> b.messageTimeout(Duration.ofMillis(300)));
    RemoteReference good = client(server);
    try (Socket s = RawSockets.handshaken(server)) {
      s.getOutputStream().write(RawPeer.frame(new byte[1000], true));
      await().atMost(WAIT).until(() -> closed.containsKey(s.getLocalPort()));
      assertThat(RawSockets.isClosedByServer(s)).isTrue();
      PbException e = closed.get(s.getLocalPort());
      assertThat(e).hasMessageContaining("did not arrive whole within 300 ms");
      assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    }
    assertThat(good.callRemote("echo", "still here").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("still here");
  }

  @Test
  void aByteAtATimeCannotHoldAMessageOpenPastTheTimeLimit() throws Exception {
    PbServer server = server(b -> b.messageTimeout(Duration.ofMillis(500)));
    try (Socket s = RawSockets.handshaken(server)) {
      // a PING frame, one byte every 50 ms: it would take 700 ms to arrive whole
      byte[] ping = RawPeer.frame(new byte[] {7, 0, 0, 0, 0, 0, 0, 0, 1}, false);
      CompletableFuture<Void> trickle =
          RawSockets.trickle(s, ping);
      await().atMost(WAIT).until(() -> closed.containsKey(s.getLocalPort()));
      assertThat(closed.get(s.getLocalPort())).hasMessageContaining("did not arrive whole");
      trickle.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  @Test
  void beforeTheHandshakeAMessageMayNotExceedTheEarlyLimit() throws Exception {
    PbServer server = server(b -> b.maxMessageSizeBeforeLogin(1000));
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      // a HELLO of 1001 bytes
      byte[] hello = new byte[1001];
      s.getOutputStream().write(RawPeer.concat(RawPeer.preamble(), RawPeer.frame(hello, false)));
      await().atMost(WAIT).until(() -> closed.containsKey(s.getLocalPort()));
      assertThat(closed.get(s.getLocalPort()))
          .hasMessageContaining("larger than the limit of 1000 bytes for a connection that has not");
    }
  }

  /** The avatar of the login test below. */
  public static final class Player implements Referenceable {
    @Remote
    public int length(byte[] data) {
      return data.length;
    }
  }

  @Test
  void beforeLoginAMessageMayNotExceedTheEarlyLimitAfterLoginItMay() throws Exception {
    Portal portal =
        Portal.builder(
                (id, mind, connection) ->
                    CompletableFuture.completedFuture(Avatar.of(new Player())))
            .checker(AnonymousChecker.allow())
            .build();
    PbServer server =
        cleanup.register(
            PbServer.builder()
                .address("127.0.0.1", 0)
                .rootFactory(portal::root)
                .maxMessageSizeBeforeLogin(10_000)
                .build()
                .start());
    PbClient loggedIn = cleanup.register(PbClient.builder().address("127.0.0.1", server.port()).build());
    RemoteReference player =
        Login.login(loggedIn.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS), Credentials.anonymous(), null)
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(player.callRemote("length", (Object) new byte[MIB]).get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo(MIB);

    PbClient stranger = cleanup.register(PbClient.builder().address("127.0.0.1", server.port()).build());
    RemoteReference loginRoot = stranger.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    // A root the server's executor has not made yet counts as open (see Admittance.admitted): a
    // small call answered by the login root first makes sure the server knows it is one.
    assertThatThrownBy(() -> loginRoot.callRemote("noSuchMethod").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    CompletableFuture<Object> big = loginRoot.callRemote("loginAnonymous", (Object) new byte[20_000]);
    assertThatThrownBy(() -> big.get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            PbException.class,
            e -> assertThat(e.code()).isEqualTo(PbException.Code.CONNECTION_LOST));
    // the logged-in client was not disturbed
    assertThat(player.callRemote("length", (Object) new byte[100]).get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo(100);
  }

  @Test
  void serverOptionsAreValidatedAndSetOnce() {
    assertThatThrownBy(() -> PbServer.builder().messageTimeout(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.messageTimeout must be zero (off) or positive");
    assertThatThrownBy(() -> PbServer.builder().inboundBudget(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.inboundBudget");
    assertThatThrownBy(() -> PbServer.builder().maxMessageSizeBeforeLogin(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.maxMessageSizeBeforeLogin");
    PbServer.Builder b = PbServer.builder().inboundBudget(1 << 20).messageTimeout(Duration.ZERO);
    assertThatThrownBy(() -> b.inboundBudget(2 << 20))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbServer.Builder.inboundBudget was already set");
    assertThatThrownBy(() -> b.messageTimeout(Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("messageTimeout was already set");
    assertThatThrownBy(
            () ->
                PbServer.builder()
                    .port(0)
                    .root(root)
                    .maxFrameSize(1 << 20)
                    .inboundBudget(1000)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("inboundBudget 1000 is smaller than maxFrameSize 1048576");
  }
}
