package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.internal.Connection;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Keep-alive pings and the read timeout, over TCP on loopback. */
@Timeout(60)
class KeepAliveTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final Duration INTERVAL = Duration.ofMillis(100);
  static final Duration TIMEOUT = Duration.ofMillis(500);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** A root whose {@code never} call is never answered. */
  public static final class Silent implements Referenceable {
    @Remote
    public CompletableFuture<String> never() {
      return new CompletableFuture<>();
    }

    @Remote
    public String echo(String s) {
      return s;
    }

    @Remote
    public byte[] blob(int size) {
      return new byte[size];
    }
  }

  PbServer server(java.util.function.Consumer<PbServer.Builder> options) {
    PbServer.Builder b = PbServer.builder().address("127.0.0.1", 0).root(new Silent());
    options.accept(b);
    return cleanup.register(b.build().start());
  }

  PbClient client(PbServer server, java.util.function.Consumer<PbClient.Builder> options) {
    PbClient.Builder b = PbClient.builder().address("127.0.0.1", server.port());
    options.accept(b);
    return cleanup.register(b.build());
  }

  static Connection only(PbServer server) {
    await().atMost(WAIT).until(() -> server.connections().size() == 1);
    return (Connection) server.connections().iterator().next();
  }

  @Test
  void silentPeerIsDisconnectedAfterTheTimeout() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        server(b -> b.keepAlive(INTERVAL, TIMEOUT).onDisconnect((c, e) -> dropped.complete(e)));
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      // the preamble, then nothing: no registry hello, no pongs
      peer.send(new byte[] {'P', 'B', 'J', 0x1A, 0, 1});
      long start = System.nanoTime();
      assertThat(peer.closedWithin(WAIT)).as("server closed the silent connection").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(TIMEOUT.minusMillis(50));
    }
    PbException e = dropped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(e).hasMessageContaining("no traffic").hasMessageContaining("500 ms");
  }

  @Test
  void clientDropsAServerThatStopsAnsweringAndPendingCallsFail() throws Exception {
    PbServer server = server(b -> {});
    CompletableFuture<PbException> lost = new CompletableFuture<>();
    PbClient client = client(server, b -> b.keepAlive(INTERVAL, TIMEOUT).onDisconnect(lost::complete));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    CompletableFuture<Object> pending = root.callRemote("never");
    Connection serverSide = only(server);
    // the server stops reading: the client's pings go unanswered
    serverSide.channel().config().setAutoRead(false);

    ExecutionException failure =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> pending.get(WAIT.toSeconds(), TimeUnit.SECONDS));
    assertThat(failure.getCause()).isInstanceOf(PbException.class);
    PbException e = (PbException) failure.getCause();
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(e).hasMessageContaining("no traffic").hasMessageContaining("500 ms");
    assertThat(lost.get(WAIT.toSeconds(), TimeUnit.SECONDS)).hasMessageContaining("no traffic");
    // later calls on the dead reference fail at once
    assertThatThrownBy(() -> root.callRemote("echo", "x").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class);
    serverSide.channel().config().setAutoRead(true);
  }

  @Test
  void idleConnectionWithPingingClientStaysUpBeyondManyTimeouts() throws Exception {
    PbServer server = server(b -> {});
    PbClient client = client(server, b -> b.keepAlive(INTERVAL, TIMEOUT));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    Connection serverSide = only(server);
    long before = serverSide.stats().messagesReceived();
    // The client writes only pings, each at least INTERVAL after its previous write: 15 of them
    // span at least 1.4 s, almost three read timeouts.
    await().atMost(WAIT).until(() -> serverSide.stats().messagesReceived() - before >= 15);
    assertThat(client.connection().join().isOpen()).isTrue();
    assertThat(serverSide.isOpen()).isTrue();
    assertThat(root.callRemote("echo", "alive").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("alive");
  }

  @Test
  void idleConnectionWithPingingServerStaysUpAndClientAnswers() throws Exception {
    PbServer server = server(b -> b.keepAlive(INTERVAL, TIMEOUT));
    PbClient client = client(server, b -> {});
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    PbConnection clientSide = client.connection().join();
    long before = clientSide.stats().messagesReceived();
    await().atMost(WAIT).until(() -> clientSide.stats().messagesReceived() - before >= 15);
    assertThat(clientSide.isOpen()).isTrue();
    assertThat(only(server).isOpen()).isTrue();
    assertThat(root.callRemote("echo", "alive").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("alive");
  }

  @Test
  void aByteAtATimeDoesNotKeepAConnectionAlive() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        server(
            b ->
                b.keepAlive(INTERVAL, TIMEOUT)
                    .messageTimeout(Duration.ZERO)
                    .onDisconnect((c, e) -> dropped.complete(e)));
    try (java.net.Socket s = new java.net.Socket("127.0.0.1", server.port())) {
      s.getOutputStream().write(RawPeer.concat(RawPeer.preamble(), RawPeer.hello()));
      // then a frame of 100 bytes, a byte every 50 ms: ten times within each keep-alive timeout,
      // but no whole message for 5 s; pings go unanswered
      byte[] frame = RawPeer.frame(new byte[99], false);
      CompletableFuture<Void> trickle =
          RawSockets.trickle(s, frame);
      PbException e = dropped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertThat(e).hasMessageContaining("no traffic").hasMessageContaining("500 ms");
      assertThat(trickle).as("dropped before the frame was whole").isNotDone();
      trickle.cancel(true);
    }
  }

  @Test
  void aSlowDownloadIsNotMistakenForADeadPeer() throws Exception {
    // the client sends nothing while it downloads, and the pings wait behind the download
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        server(
            b -> b.keepAlive(Duration.ofMillis(200), Duration.ofSeconds(1))
                .onDisconnect((c, e) -> dropped.complete(e)));
    PbClient client = client(server, b -> {});
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    // small socket buffers, so that the backlog stays in the server's channel where it is seen
    only(server).channel().config().setOption(io.netty.channel.ChannelOption.SO_SNDBUF, 64 << 10);
    io.netty.channel.Channel ch = ((Connection) client.connection().join()).channel();
    ch.config().setOption(io.netty.channel.ChannelOption.SO_RCVBUF, 64 << 10);
    ch.config()
        .setRecvByteBufAllocator(
            new io.netty.channel.FixedRecvByteBufAllocator(16 << 10).maxMessagesPerRead(1));
    ch.config().setAutoRead(false);
    // 16 KiB every 5 ms: about 3 MB/s, so 12 MiB take about four keep-alive timeouts
    io.netty.util.concurrent.ScheduledFuture<?> reader =
        ch.eventLoop().scheduleAtFixedRate(ch::read, 5, 5, TimeUnit.MILLISECONDS);
    try {
      byte[] got =
          (byte[]) root.callRemote("blob", 12 << 20).get(WAIT.toSeconds() * 3, TimeUnit.SECONDS);
      assertThat(got).hasSize(12 << 20);
    } finally {
      reader.cancel(false);
      ch.config().setAutoRead(true);
    }
    assertThat(dropped).isNotDone();
    assertThat(root.callRemote("echo", "alive").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("alive");
  }

  @Test
  void keepAliveOptionsAreValidatedAndSetOnce() {
    assertThatThrownBy(() -> PbClient.builder().keepAlive(Duration.ZERO, TIMEOUT))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("keepAlive interval");
    assertThatThrownBy(() -> PbServer.builder().keepAlive(TIMEOUT, INTERVAL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be longer than the interval");
    PbClient.Builder b = PbClient.builder().keepAlive(INTERVAL, TIMEOUT);
    assertThatThrownBy(() -> b.keepAlive(INTERVAL, TIMEOUT))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbClient.Builder.keepAlive");
  }
}
