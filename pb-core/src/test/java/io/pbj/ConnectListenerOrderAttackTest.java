package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PbServer.Builder#onConnect} and {@link PbServer.Builder#onDisconnect} of one connection,
 * when the connection's call sequence is busy (a slow root factory) as it closes.
 */
class ConnectListenerOrderAttackTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** A pool that counts the tasks it was given and those that finished. */
  static final class CountingExecutor implements Executor {
    private final ExecutorService pool = Executors.newCachedThreadPool();
    final AtomicInteger submitted = new AtomicInteger();
    final AtomicInteger finished = new AtomicInteger();

    @Override
    public void execute(Runnable task) {
      submitted.incrementAndGet();
      pool.execute(
          () -> {
            try {
              task.run();
            } finally {
              finished.incrementAndGet();
            }
          });
    }

    boolean idle() {
      return finished.get() == submitted.get();
    }

    void shutdown() {
      pool.shutdownNow();
    }
  }

  private final CountingExecutor executor = new CountingExecutor();

  @AfterEach
  void stopExecutor() {
    executor.shutdown();
  }

  /**
   * A root factory that holds the connection's call sequence until {@code gate} opens (or
   * {@link #WAIT} passes): the onConnect listeners, queued behind it, wait with it.
   */
  private java.util.function.Function<PbConnection, Object> slowRoot(CountDownLatch gate) {
    return c -> {
      try {
        gate.await(WAIT.toSeconds(), TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return root;
    };
  }

  @Test
  void onDisconnectNeverRunsBeforeOnConnectWhenTheRootFactoryIsSlow() throws Exception {
    CountDownLatch rootGate = new CountDownLatch(1);
    List<String> heard = Collections.synchronizedList(new ArrayList<>());
    PbServer server =
        cleanup.register(
            serverBuilder()
                .registry(Fixtures.registry())
                .executor(executor)
                .rootFactory(slowRoot(rootGate))
                .onConnect(c -> heard.add("connect"))
                .onDisconnect((c, cause) -> heard.add("disconnect"))
                .build()
                .start());
    PbClient client = client(server, b -> b.registry(Fixtures.registry()));
    get(client.rootObject()); // handshaken; no call made, so the root need not exist yet
    PbConnection serverSide = server.connections().iterator().next();

    client.close();
    await().atMost(WAIT).until(() -> !serverSide.isOpen() && heard.contains("disconnect"));
    rootGate.countDown();
    await().atMost(WAIT).until(executor::idle);

    // an application pairing the two (a registry of live connections) would otherwise keep a
    // closed connection for good: its onConnect adds it after its onDisconnect removed it
    assertThat(heard).as("what the listeners heard, in order").containsExactly(
        "connect", "disconnect");
  }

  @Test
  void aThrowingOnConnectListenerKeepsNeitherTheOthersNorTheCallsFromRunning() throws Exception {
    List<String> heard = Collections.synchronizedList(new ArrayList<>());
    PbServer server =
        startServer(
            b ->
                b.registry(Fixtures.registry())
                    .executor(executor)
                    .onConnect(
                        c -> {
                          throw new IllegalStateException("a broken onConnect listener");
                        })
                    .onConnect(c -> heard.add("connect"))
                    .onDisconnect((c, cause) -> heard.add("disconnect")));
    PbClient client = client(server, b -> b.registry(Fixtures.registry()));
    RemoteReference ref = get(client.rootObject());

    assertThat(get(ref.callRemote(String.class, "echo", "hi"))).isEqualTo("hi");
    client.close();
    await().atMost(WAIT).until(() -> heard.contains("disconnect"));
    assertThat(heard).containsExactly("connect", "disconnect");
  }

  @Test
  void aThrowingOnConnectListenerRunByTheCloseStillLetsOnDisconnectRun() throws Exception {
    CountDownLatch rootGate = new CountDownLatch(1);
    List<String> heard = Collections.synchronizedList(new ArrayList<>());
    PbServer server =
        cleanup.register(
            serverBuilder()
                .registry(Fixtures.registry())
                .executor(executor)
                .rootFactory(slowRoot(rootGate))
                .onConnect(
                    c -> {
                      heard.add("connect");
                      throw new IllegalStateException("a broken onConnect listener");
                    })
                .onDisconnect((c, cause) -> heard.add("disconnect"))
                .build()
                .start());
    PbClient client = client(server, b -> b.registry(Fixtures.registry()));
    get(client.rootObject());

    client.close();
    try {
      await().atMost(WAIT).until(() -> heard.contains("disconnect"));
    } finally {
      rootGate.countDown();
    }
    await().atMost(WAIT).until(executor::idle);
    assertThat(heard).containsExactly("connect", "disconnect");
  }
}
