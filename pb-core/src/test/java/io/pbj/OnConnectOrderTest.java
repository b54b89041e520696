package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.HeldExecutor;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * {@link PbServer.Builder#onConnect}: what the listener sets up for a connection is there when
 * that connection's first call runs, however the executor orders its tasks.
 */
class OnConnectOrderTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** Answers whether the caller's connection was announced before the call ran. */
  static final class Root implements Referenceable {
    final Set<PbConnection> announced = ConcurrentHashMap.newKeySet();

    @Remote
    public boolean announced() {
      return announced.contains(CallContext.current().connection());
    }
  }

  private final HeldExecutor executor = cleanup.register(HeldExecutor.holding());

  @Test
  void theFirstCallRunsAfterTheConnectListenerEvenWhenBothWaitForTheExecutor() throws Exception {
    Root root = new Root();
    PbServer server =
        cleanup.register(
            serverBuilder()
                .root(root)
                .executor(executor)
                .onConnect(root.announced::add)
                .build()
                .start());
    // the call is read while the root's creation, the listener and the call all wait
    CompletableFuture<Boolean> answer = callReadWhileAllWait(server);

    assertThat(get(answer)).as("the connect listener ran before the call").isTrue();
  }

  /**
   * Connects, calls {@code announced} and releases the server's held executor once the server has
   * read the call: everything the connection queued at start-up and the call run in the order
   * they were queued.
   */
  private CompletableFuture<Boolean> callReadWhileAllWait(PbServer server) {
    RemoteReference ref = connect(server);
    PbConnection serverSide = server.connections().iterator().next();
    long readBefore = serverSide.stats().messagesReceived();
    CompletableFuture<Boolean> answer = ref.callRemote(Boolean.class, "announced");
    await().until(() -> serverSide.stats().messagesReceived() > readBefore);
    executor.release();
    return answer;
  }

  /** Records what a {@link PbListener} hears, in the order it hears it. */
  static final class Recorder implements PbListener {
    final List<String> heard = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public void connectionOpened(PbConnection connection) {
      heard.add("opened");
    }

    @Override
    public void callStarted(PbCall call) {
      heard.add("started " + call.method());
    }
  }

  @Test
  void aConnectionIsReportedOpenedBeforeItsFirstCallStartsEvenWhenBothWaitForTheExecutor()
      throws Exception {
    Root root = new Root();
    Recorder recorder = new Recorder();
    PbServer server =
        cleanup.register(
            serverBuilder().root(root).executor(executor).eventListener(recorder).build().start());
    // the call is read while the opening's report and the call both wait
    get(callReadWhileAllWait(server));

    // a listener keeping per-connection state (open connections, their bytes) must know the
    // connection before its calls: metrics showed no open connection while one's call ran
    assertThat(recorder.heard).startsWith("opened", "started announced");
  }
}
