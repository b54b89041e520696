package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.ScoreboardCache;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link RemoteCache#onUpdateApplied} when updates are coalesced into a whole state, which needs a
 * channel that becomes unwritable (TCP; in-process channels never do).
 */
class TcpUpdateListenerTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  @Test
  void listenersSeeCoalescedStatesAndUpdatesInTheOrderApplied() throws Exception {
    root.scoreboard.backpressure = Backpressure.coalesce(16);
    PbServer server = startServer();
    PbClient slow = client(server, b -> b.registry(Fixtures.registry()));
    ScoreboardCache cache =
        (ScoreboardCache) get(slow.rootObject().join().callRemote("scoreboard"));
    // replaying what the listener saw must rebuild the cache's entries exactly
    List<String> replayed = new CopyOnWriteArrayList<>();
    AtomicInteger wholeStates = new AtomicInteger();
    cache.onUpdateApplied(
        u -> {
          if (u.wholeState()) {
            wholeStates.incrementAndGet();
            replayed.clear();
            @SuppressWarnings("unchecked")
            List<String> state = (List<String>) u.args().get(0);
            replayed.addAll(state);
          } else {
            assertThat(u.method()).isEqualTo("added");
            replayed.add((String) u.args().get(0));
          }
        });

    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    clientSide.channel().config().setAutoRead(false);
    String pad = "x".repeat(4096);
    for (int i = 0; i < 5000; i++) {
      root.scoreboard.add(i + pad);
    }
    clientSide.channel().config().setAutoRead(true);
    clientSide.channel().read();
    List<String> expected = new ArrayList<>(root.scoreboard.entries);
    await().atMost(WAIT).until(() -> cache.entries.equals(expected));
    await().atMost(WAIT).until(() -> replayed.equals(expected));
    assertThat(wholeStates.get()).as("a coalesced state replaced the updates").isPositive();
    assertThat(cache.states.get()).isEqualTo(1 + wholeStates.get());
  }
}
