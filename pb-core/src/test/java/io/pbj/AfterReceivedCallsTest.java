package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PbConnection#afterReceivedCalls()}: what is chained on it runs after the calls the
 * connection had received, however the executor orders its tasks.
 */
class AfterReceivedCallsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** Records the calls it runs. */
  static final class Root implements Referenceable {
    final List<String> ran = new CopyOnWriteArrayList<>();

    @Remote
    public void note(String what) {
      ran.add(what);
    }
  }

  /**
   * Holds its tasks until released, then runs them newest first, one after another (a busy pool
   * may run a later task first), and later tasks as they come.
   */
  static final class NewestFirst implements Executor {
    private final ExecutorService runner = Executors.newSingleThreadExecutor();
    private List<Runnable> held = new ArrayList<>();

    @Override
    public synchronized void execute(Runnable task) {
      if (held != null) {
        held.add(task);
      } else {
        runner.execute(task);
      }
    }

    synchronized void release() {
      Collections.reverse(held);
      held.forEach(runner::execute);
      held = null;
    }

    void shutdown() {
      runner.shutdownNow();
    }
  }

  private final NewestFirst executor = new NewestFirst();

  @AfterEach
  void stopExecutor() {
    executor.shutdown();
  }

  @Test
  void completesAfterTheCallsReceivedBeforeItEvenWhenTheyWaitForTheExecutor() throws Exception {
    Root root = new Root();
    PbServer server =
        cleanup.register(serverBuilder().root(root).executor(executor).build().start());
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    long readBefore = serverSide.stats().messagesReceived();
    ref.callRemoteOneWay("note", "first");
    ref.callRemoteOneWay("note", "second");
    await().until(() -> serverSide.stats().messagesReceived() >= readBefore + 2);

    CompletableFuture<List<String>> seen =
        serverSide.afterReceivedCalls().thenApply(v -> List.copyOf(root.ran));
    assertThat(seen).isNotDone();
    executor.release();

    assertThat(get(seen)).containsExactly("first", "second");
  }

  @Test
  void completesOnAConnectionThatClosed() throws Exception {
    PbServer server = cleanup.register(serverBuilder().root(new Root()).build().start());
    RemoteReference ref = connect(server);
    PbConnection connection = ref.connection();
    connection.close();
    await().until(() -> !connection.isOpen());

    assertThat(connection.afterReceivedCalls()).succeedsWithin(WAIT);
  }
}
