package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.ScoreboardCache;
import org.junit.jupiter.api.Test;

/** {@link PbListener#backpressure}: a stalled client's observer overflows (TCP: local channels never fill). */
class TcpBackpressureEventsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  @Test
  void anOverflowingObserverIsReportedAsCoalesced() throws Exception {
    root.scoreboard.backpressure = Backpressure.coalesce(16);
    PbListenerTest.Recorder server = new PbListenerTest.Recorder();
    PbServer s = startServer(b -> b.registry(Fixtures.registry()).eventListener(server));
    PbClient slow = client(s, b -> b.registry(Fixtures.registry()));
    ScoreboardCache cache =
        (ScoreboardCache) get(slow.rootObject().join().callRemote("scoreboard"));
    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    clientSide.channel().config().setAutoRead(false);
    String pad = "x".repeat(4096);
    for (int i = 0; i < 5000 && server.pressure.isEmpty(); i++) {
      root.scoreboard.add(i + pad);
    }
    await().atMost(WAIT).until(() -> !server.pressure.isEmpty());
    clientSide.channel().config().setAutoRead(true);
    clientSide.channel().read();

    assertThat(server.pressure.get(0))
        .startsWith("UPDATES_COALESCED")
        .contains("more than 16 updates of " + Fixtures.Scoreboard.class.getName());
    assertThat(server.threads).doesNotContainValue(true);
    java.lang.ref.Reference.reachabilityFence(cache);
  }
}
