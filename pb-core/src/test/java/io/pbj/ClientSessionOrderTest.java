package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingDeque;
import org.junit.jupiter.api.Test;

/**
 * A client's session and the connection it runs on, however the client's executor orders its
 * tasks: a connection that closes just after its handshake never gives a session, even when the
 * close is handled before the handshake's success reaches the executor.
 */
class ClientSessionOrderTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /**
   * Runs tasks on one thread. Until released it holds the tasks handed over by the client's event
   * loop (the handshake's success, then the close, with whatever else the loop hands over) and
   * runs the others (the dialling) at once. Released, it runs the newest held task first, then
   * the other held ones in the order they came, and each task's own submissions right after it:
   * what a busy pool does when the thread that took the close runs while those that took the
   * earlier tasks wait for a core, made certain.
   */
  static final class CloseFirstExecutor implements Executor, AutoCloseable {
    private final BlockingDeque<Runnable> tasks = new LinkedBlockingDeque<>();
    private final List<Runnable> held = new ArrayList<>();
    private boolean released;
    private final Thread runner =
        new Thread(
            () -> {
              try {
                while (true) {
                  tasks.takeLast().run();
                }
              } catch (InterruptedException e) {
                // stopped
              }
            },
            "close-first");

    CloseFirstExecutor() {
      runner.setDaemon(true);
      runner.start();
    }

    @Override
    public synchronized void execute(Runnable task) {
      if (!released && Thread.currentThread().getName().startsWith("pbj-client-io")) {
        held.add(task);
      } else {
        tasks.add(task);
      }
    }

    synchronized int held() {
      return held.size();
    }

    synchronized void release() {
      released = true;
      // taken newest first: the last held task, then the earlier ones from the oldest
      for (int i = held.size() - 2; i >= 0; i--) {
        tasks.add(held.get(i));
      }
      if (!held.isEmpty()) {
        tasks.add(held.get(held.size() - 1));
      }
      held.clear();
    }

    @Override
    public void close() {
      runner.interrupt();
    }
  }

  /** Registered first, so stopped last: the client closes on it. */
  private final CloseFirstExecutor executor = cleanup.register(new CloseFirstExecutor());

  @Test
  void aConnectionClosedBeforeItsHandshakeReachesTheExecutorGivesNoSession() throws Exception {
    PbServer server = startServer(b -> b.registry(Fixtures.registry()).onConnect(c -> c.close()));
    PbClient client =
        client(server, b -> b.registry(Fixtures.registry()).executor(executor)).start();
    // held: the handshake's success; then, as the close finds that success not yet delivered,
    // the handshake's failure and the close's own listener
    await().atMost(WAIT).until(() -> executor.held() >= 3);
    executor.release();

    assertThat(failureOf(client.rootObject()))
        .as("the session fails with the connection's loss")
        .isInstanceOfSatisfying(
            PbException.class,
            e -> assertThat(e.code()).isEqualTo(PbException.Code.CONNECTION_LOST));
  }

  @Test
  void aReconnectingClientWhoseConnectionClosedBeforeItsHandshakeReachedTheExecutorReconnects()
      throws Exception {
    java.util.concurrent.atomic.AtomicInteger connects =
        new java.util.concurrent.atomic.AtomicInteger();
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .onConnect(
                        c -> {
                          if (connects.incrementAndGet() == 1) {
                            c.close();
                          }
                        }));
    PbClient client =
        client(
                server,
                b ->
                    b.registry(Fixtures.registry())
                        .executor(executor)
                        .reconnect(
                            ReconnectPolicy.exponential(
                                java.time.Duration.ofMillis(20),
                                java.time.Duration.ofMillis(100))))
            .start();
    await().atMost(WAIT).until(() -> executor.held() >= 3);
    executor.release();

    // the first connection gives no session; the client dials again and the second one does
    RemoteReference root = get(client.rootObject());
    assertThat(get(root.callRemote(String.class, "echo", "again"))).isEqualTo("again");
    assertThat(connects).hasValue(2);
  }
}
