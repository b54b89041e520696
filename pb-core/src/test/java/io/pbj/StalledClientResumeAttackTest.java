package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.Fixtures.ScoreboardCache;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Attack on the observer backlog (CacheObservers.backlogged/writable/drainBacklog and
 * RealRemoteObserver.drain): a client stops reading while the server pushes far more than the
 * channel takes, then resumes, several times, with pushes going on while it resumes. Every update
 * must arrive, in order, none applied twice, and none stuck in a queue that no drain serves.
 */
class StalledClientResumeAttackTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  @Test
  @Timeout(300)
  void everyUpdateArrivesInOrderAfterTheStalledClientResumes() throws Exception {
    // a queue large enough that nothing coalesces: each update must travel as itself
    root.scoreboard.backpressure = Backpressure.coalesce(1_000_000);
    PbServer server = startServer();
    PbClient slow = client(server, b -> b.registry(Fixtures.registry()));
    ScoreboardCache cache =
        (ScoreboardCache) get(slow.rootObject().join().callRemote("scoreboard"));
    io.pbj.internal.Connection clientSide = (io.pbj.internal.Connection) get(slow.connection());
    RemoteObserver observer = root.scoreboard.observers.iterator().next();
    String pad = "x".repeat(4096);
    int n = 0;
    int maxQueued = 0;
    for (int cycle = 0; cycle < 4; cycle++) {
      clientSide.channel().config().setAutoRead(false);
      for (int i = 0; i < 3000; i++) {
        root.scoreboard.add("c" + cycle + "-" + n++ + pad);
        maxQueued = Math.max(maxQueued, observer.queuedUpdates());
      }
      int from = n;
      // pushes race the resumption: the backlog drains while new updates queue behind it
      CompletableFuture<Void> racing =
          CompletableFuture.runAsync(
              () -> {
                for (int i = 0; i < 500; i++) {
                  root.scoreboard.add("r" + (from + i) + pad);
                }
              });
      clientSide.channel().config().setAutoRead(true);
      clientSide.channel().read();
      get(racing);
      n += 500;
      List<String> expected = List.copyOf(root.scoreboard.entries);
      // 14 MB a cycle: seconds, or more on a loaded machine; a stuck queue stops all progress
      int c = cycle;
      awaitProgress(
          Duration.ofSeconds(30),
          () -> cache.entries.size() >= expected.size(),
          () -> cache.entries.size(),
          () ->
              String.format(
                  "cycle %d: %d of %d updates arrived, %d queued at the server, the client"
                      + " reads: %s",
                  c, cache.entries.size(), expected.size(), observer.queuedUpdates(),
                  clientSide.channel().config().isAutoRead()));
      assertThat(cache.entries).as("cycle %d: every update, in order", cycle).isEqualTo(expected);
    }
    assertThat(maxQueued).as("the channel filled: updates were queued").isGreaterThan(0);
    assertThat(cache.states).as("no coalesced state: every update came as itself").hasValue(1);
    assertThat(observer.queuedUpdates()).isZero();
    assertThat(observer.isObserving()).isTrue();
  }
}
