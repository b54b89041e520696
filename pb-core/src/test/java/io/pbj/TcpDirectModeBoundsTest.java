package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.internal.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * A hostile client cannot make a server do unbounded work or hold unbounded memory through
 * {@link Remote#direct()} calls: the read pause for a peer that leaves its answers unread holds
 * for direct calls as for any.
 */
class TcpDirectModeBoundsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  /** A root whose direct method answers with as much as it was sent. */
  public static final class Echo implements Referenceable {
    final AtomicInteger ran = new AtomicInteger();

    @Remote(direct = true)
    public byte[] directEcho(byte[] payload) {
      ran.incrementAndGet();
      return payload;
    }

    @Remote(direct = true)
    public String hello(String s) {
      return s;
    }
  }

  @Test
  void directCallsFromAClientThatNeverReadsStopBeingReadAndRun() throws Exception {
    CompletableFuture<PbException> dropped = new CompletableFuture<>();
    Echo echo = new Echo();
    PbServer server =
        cleanup.register(
            serverBuilder()
                .root(echo)
                .slowReaderTimeout(Duration.ofSeconds(2))
                .onDisconnect((c, e) -> dropped.complete(e))
                .build()
                .start());
    PbClient greedy = cleanup.register(clientBuilder(server).build());
    RemoteReference ref = greedy.rootObject().join();
    await().atMost(WAIT).until(() -> server.connections().size() == 1);
    PbConnection serverSide = server.connections().iterator().next();
    ((Connection) get(greedy.connection())).channel().config().setAutoRead(false);
    int calls = 200;
    byte[] payload = new byte[256 * 1024]; // 50 MiB of direct calls, each answered with as much
    List<CompletableFuture<Object>> answers = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      answers.add(ref.callRemote("directEcho", (Object) payload));
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
    assertThat(dropped.join().code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(serverSide.stats().messagesReceived())
        .as("the server stopped reading direct calls whose answers could not leave")
        .isLessThan(calls / 2);
    assertThat(echo.ran.get())
        .as("direct calls run while the answers could not leave")
        .isLessThan(calls / 2);
    assertThat(maxPending.get())
        .as("answers waiting for the client stayed bounded")
        .isLessThan(16L * 1024 * 1024);
    RemoteReference other = cleanup.register(clientBuilder(server).build()).rootObject().join();
    assertThat(get(other.callRemote("hello", "others still served")))
        .isEqualTo("others still served");
  }
}
