package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.internal.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Server-side bounds that need a real socket: a client that does not read its answers, and
 * errors that end one connection but not the server.
 */
class TcpServerLimitsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  @Test
  void clientThatNeverReadsIsNoLongerReadFromAndIsClosedAfterTheTimeout() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .slowReaderTimeout(Duration.ofSeconds(2))
                    .onDisconnect((c, e) -> dropped.complete(e)));
    PbClient greedy = client(server, b -> b.registry(Fixtures.registry()));
    RemoteReference ref = greedy.rootObject().join();
    await().atMost(WAIT).until(() -> server.connections().size() == 1);
    PbConnection serverSide = server.connections().iterator().next();
    ((Connection) get(greedy.connection())).channel().config().setAutoRead(false);
    int calls = 200;
    byte[] payload = new byte[256 * 1024]; // 50 MiB of calls, each answered with as much
    List<CompletableFuture<Object>> answers = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      answers.add(ref.callRemote("reverse", (Object) payload));
    }
    AtomicLong maxPending = new AtomicLong();
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(10))
        .until(
            () -> {
              if (serverSide.isOpen()) {
                maxPending.accumulateAndGet(RawSockets.pendingOutbound(serverSide), Math::max);
              }
              return dropped.isDone();
            });
    PbException cause = dropped.join();
    assertThat(cause.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(cause).hasMessageContaining("slowReaderTimeout=2000 ms");
    assertThat(serverSide.stats().messagesReceived())
        .as("the server stopped reading calls whose answers could not leave")
        .isLessThan(calls / 2);
    assertThat(maxPending.get())
        .as("answers waiting for the client stayed bounded")
        .isLessThan(16L * 1024 * 1024);
    await().atMost(WAIT).until(() -> answers.stream().allMatch(CompletableFuture::isDone));
    assertThat(answers.stream().filter(CompletableFuture::isCompletedExceptionally).count())
        .as("calls whose answers were never read fail when the connection closes")
        .isGreaterThan(calls * 3L / 4);
    assertThat(get(connect(server).callRemote("echo", "others still served")))
        .isEqualTo("others still served");
  }

  @Test
  void aServerTakesNoLargerMessageThanItsIncomingLimitThoughItSendsLarger() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .maxMessageSize(8 << 20)
                    .maxIncomingMessageSize(256 << 10)
                    .onDisconnect((c, e) -> dropped.complete(e)));
    RemoteReference ref =
        client(server, b -> b.registry(Fixtures.registry()).maxMessageSize(8 << 20))
            .rootObject()
            .join();
    assertThat((byte[]) get(ref.callRemote("reverse", (Object) new byte[200 << 10])))
        .hasSize(200 << 10);
    Throwable t = failureOf(ref.callRemote("reverse", (Object) new byte[1 << 20]));
    assertThat(t).hasMessageContaining("maxIncomingMessageSize");
    assertThat(get(dropped).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
  }

  @Test
  void aRefusedClientReadsWhyThoughItWasStillSending() throws Exception {
    // The server refuses the first frame of 4 MiB while the client is still writing the rest:
    // closing at once, with those bytes unread, reset the connection and the reset destroyed
    // the goodbye (145 of 150 calls failed with "Connection reset by peer" instead).
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .maxMessageSize(8 << 20)
                    .maxIncomingMessageSize(256 << 10));
    for (int i = 0; i < 20; i++) {
      RemoteReference ref =
          client(server, b -> b.registry(Fixtures.registry()).maxMessageSize(8 << 20))
              .rootObject()
              .join();
      Throwable t = failureOf(ref.callRemote("reverse", (Object) new byte[4 << 20]));
      assertThat(t)
          .as("attempt %d", i)
          .hasMessageContaining("the peer said goodbye")
          .hasMessageContaining("maxIncomingMessageSize");
    }
    assertThat(get(connect(server).callRemote("echo", "others still served")))
        .isEqualTo("others still served");
  }

  @Test
  void aRefusedPeerThatKeepsSendingIsReadOnlyABoundedAmountDuringTheGrace() throws Exception {
    CompletableFuture<PbConnection> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry()).onDisconnect((c, e) -> dropped.complete(c)));
    try (java.net.Socket s = RawSockets.handshaken(server)) {
      java.io.OutputStream out = s.getOutputStream();
      out.write(new byte[] {0, 0, 0, 0}); // an empty frame: a protocol error, then a goodbye
      byte[] chunk = new byte[64 << 10];
      // stream instead of closing, until the server closes (each write waits while the server
      // does not read, so this stops at the close, at the latest after the grace)
      try {
        while (!dropped.isDone()) {
          out.write(chunk);
        }
      } catch (java.io.IOException e) {
        // closed by the server
      }
    }
    long read = get(dropped).stats().bytesReceived();
    // without the bound the server read everything the peer sent in the second of grace
    // (747 MB on loopback in the attack review)
    assertThat(read)
        .as("bytes the server read from a refused peer")
        .isLessThan(io.pbj.internal.TestAccess.lingerDropMax() + (4L << 20));
    assertThat(get(connect(server).callRemote("echo", "others still served")))
        .isEqualTo("others still served");
  }

  @Test
  @Timeout(300)
  void callsThatArriveFasterThanTheyRunStopTheReadingInsteadOfQueueingWithoutEnd()
      throws Exception {
    // The server's executor is busy (a slow method, a full pool): nothing runs. Before, every
    // call sent was read and queued decoded (20,000 of them here, 20 MB); now reading stops
    // past the backlog and the rest waits in the sockets, where the client feels it.
    java.util.concurrent.ExecutorService busy = java.util.concurrent.Executors.newSingleThreadExecutor();
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    try {
      busy.execute(() -> {
        try {
          release.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      PbServer server = startServer(b -> b.registry(Fixtures.registry()).executor(busy));
      PbClient client = client(server, b -> b.registry(Fixtures.registry()));
      RemoteReference ref = client.rootObject().join();
      await().atMost(WAIT).until(() -> server.connections().size() == 1);
      PbConnection serverSide = server.connections().iterator().next();
      Connection clientSide = (Connection) get(client.connection());
      String text = "x".repeat(1000);
      int calls = 20_000;
      for (int i = 0; i < calls; i++) {
        ref.callRemoteOneWay("remember", text);
      }
      // the client's own buffer fills once the server stops reading and the sockets are full
      await().atMost(WAIT).until(() -> !clientSide.channel().isWritable());
      long read = serverSide.stats().messagesReceived();
      assertThat(read)
          .as("calls the server read while none could run")
          .isLessThan(io.pbj.internal.TestAccess.callBacklogMax() + 2_000L);
      release.countDown();
      // 20,000 calls, one at a time, with reading stopped and restarted as they run: a matter of
      // seconds, or a minute on a loaded machine; what must not happen is that they stop running
      awaitProgress(
          Duration.ofSeconds(30),
          () -> root.remembered.size() == calls,
          () -> root.remembered.size(),
          () ->
              String.format(
                  "%d of %d calls ran; the server read %d, its channel reads: %s",
                  root.remembered.size(), calls, serverSide.stats().messagesReceived(),
                  ((Connection) serverSide).channel().config().isAutoRead()));
    } finally {
      release.countDown();
      busy.shutdown();
    }
  }

  @Test
  void anIncomingLimitLargerThanTheMessageLimitIsRefused() {
    assertThatThrownBy(
            () -> serverBuilder().root(root).maxMessageSize(1 << 20).maxIncomingMessageSize(2 << 20)
                .build())
        .hasMessageContaining("maxIncomingMessageSize 2097152 is larger than maxMessageSize");
  }

  @Test
  void errorInARemoteMethodClosesThatConnectionOnly() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry()).onDisconnect((c, e) -> dropped.complete(e)));
    RemoteReference bystander = connect(server);
    RemoteReference culprit = connect(server);
    Throwable t = failureOf(culprit.callRemote("exhaust", "boom"));
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(t).hasMessageContaining("internal error").hasMessageNotContaining("simulated");
    assertThat(get(dropped)).hasMessageContaining("OutOfMemoryError");
    assertThat(get(bystander.callRemote("echo", "fine"))).isEqualTo("fine");
  }

  @Test
  void errorCompletingAnAsynchronousAnswerClosesThatConnectionOnly() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    PbServer server =
        startServer(
            b -> b.registry(Fixtures.registry()).onDisconnect((c, e) -> dropped.complete(e)));
    RemoteReference bystander = connect(server);
    RemoteReference culprit = connect(server);
    CompletableFuture<Object> call = culprit.callRemote("exhaustLater");
    get(bystander.callRemote("echo", "the call above has started"));
    root.later.complete("now");
    assertThat(failureOf(call)).hasMessageContaining("internal error");
    assertThat(get(dropped)).hasMessageContaining("StackOverflowError");
    assertThat(get(bystander.callRemote("echo", "fine"))).isEqualTo("fine");
  }
}
