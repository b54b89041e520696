package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.HeldExecutor;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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

  private final HeldExecutor executor = cleanup.register(HeldExecutor.holding());

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
}
