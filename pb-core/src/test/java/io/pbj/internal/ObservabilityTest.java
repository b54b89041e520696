package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbListener;
import io.pbj.PbRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

/** {@link Observability}'s own rules, with an executor the test runs by hand. */
class ObservabilityTest {

  /** Keeps tasks until the test runs them, newest first: the worst order a pool could pick. */
  static final class LastFirst implements Executor {
    final Deque<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
      tasks.push(task);
    }

    void runAll() {
      while (true) {
        Runnable next;
        synchronized (this) {
          next = tasks.poll();
        }
        if (next == null) {
          return;
        }
        next.run();
      }
    }
  }

  /** What the listener heard of {@link #watch}'s connections, in order. */
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final Observability watch =
      Observability.of(
          List.of(),
          new PbListener() {
            @Override
            public void connectionOpened(PbConnection connection) {
              events.add("opened");
            }

            @Override
            public void connectionClosed(PbConnection connection, PbException cause) {
              events.add("closed");
            }
          });
  private final LastFirst executor = new LastFirst();
  private final EmbeddedChannel channel = new EmbeddedChannel();

  /** A connection on {@link #channel} whose broker reports to {@link #watch}. */
  private Connection watchedConnection() {
    BrokerConfig base = TestConfigs.config(PbRegistry.defaults(), executor);
    BrokerConfig config =
        new BrokerConfig(base.registry(), executor, base.maxFrame(), base.maxMessage(),
            base.maxDepth(), base.maxReferences(), false, base.maxDecodeExpansion(), false, watch, null);
    return new Connection(channel, config);
  }

  @Test
  void aConnectionsCloseIsNeverReportedBeforeItsOpeningHowEverTheExecutorOrdersTasks() {
    Connection connection = watchedConnection();

    watch.opened(connection, executor);
    watch.closed(connection, new PbException(PbException.Code.CONNECTION_LOST, "test"));
    executor.runAll();

    assertThat(events).containsExactly("opened", "closed");
    channel.finishAndReleaseAll();
  }

  @Test
  void aCloseIsReportedAfterItsOpeningEvenIfTheCallSequenceNeverRunsTheOpeningsReport() {
    Connection connection = watchedConnection();
    List<Runnable> heldForGood = new ArrayList<>();

    // a sequence that holds its tasks back (a closed connection's calls, held while unwritable)
    watch.opened(connection, heldForGood::add);
    watch.closed(connection, new PbException(PbException.Code.CONNECTION_LOST, "test"));
    executor.runAll();

    assertThat(events).containsExactly("opened", "closed");
    heldForGood.forEach(Runnable::run);    // run late, it reports nothing twice
    assertThat(events).containsExactly("opened", "closed");
    channel.finishAndReleaseAll();
  }

  @Test
  void nothingWatchesWithoutInterceptorsListenerOrRecording() {
    assertThat(Observability.of(List.of(), null)).isSameAs(Observability.NONE);
    assertThat(Observability.NONE.watchesCalls()).isFalse();
    assertThat(Observability.of(List.of(), new PbListener() {}).watchesCalls()).isTrue();
    assertThat(Observability.of(List.of((call, next) -> next.proceed()), null).watchesCalls())
        .isTrue();
  }
}
