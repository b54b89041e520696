package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.PbCleanup;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Large one-way calls sent one after another from a plain thread (neither an event loop nor an
 * executor of the broker) arrive whole and in full, over both transports. From about 1 MiB a
 * message the receiver's decode backlog stops and restarts reading while a message arrives; the
 * in-process channel used to read its queued frames right inside that restart, re-entering the
 * frame reader mid-read (a refused, misaligned frame, or a receiver that stalled).
 */
@Timeout(120)
class InProcessLargeMessagesTest {
  private static final int CALLS = 20;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** Counts the calls it takes. */
  public static final class Sink implements Referenceable {
    final AtomicInteger got = new AtomicInteger();

    @Remote
    public void take(String[] strings) {
      got.incrementAndGet();
    }
  }

  /** Starts a plain thread that sends {@code strings} strings of 64 KiB a call, each joined. */
  public static final class Sender implements Referenceable {
    final int strings;
    final AtomicReference<Throwable> failure = new AtomicReference<>();

    Sender(int strings) {
      this.strings = strings;
    }

    @Remote
    public void start(RemoteReference sink) {
      Thread t =
          new Thread(
              () -> {
                try {
                  String big = "x".repeat(64 << 10);
                  for (int i = 0; i < CALLS && sink.isConnected(); i++) {
                    String[] s = new String[strings];
                    for (int j = 0; j < s.length; j++) {
                      s[j] = big + i + "-" + j;
                    }
                    sink.callRemoteOneWay("take", (Object) s).join();
                  }
                } catch (Throwable e) {
                  failure.set(e);
                }
              },
              "plain-sender");
      t.setDaemon(true);
      t.start();
    }
  }

  @ParameterizedTest(name = "{0}, {1} strings of 64 KiB a call")
  @CsvSource({
    "IN_PROCESS, 8", "IN_PROCESS, 15", "IN_PROCESS, 16", "IN_PROCESS, 32",
    "TCP, 8", "TCP, 15", "TCP, 16", "TCP, 32"
  })
  void largeOneWayCallsFromAPlainThreadArriveWhole(TestTransport transport, int strings)
      throws Exception {
    PbRegistry registry = PbRegistry.builder().build();
    Sender sender = new Sender(strings);
    PbServer server =
        cleanup.register(transport.serverBuilder().registry(registry).root(sender).build().start());
    PbClient client =
        cleanup.register(transport.clientBuilder(server).registry(registry).build());
    RemoteReference root = client.rootObject().join();
    Sink sink = new Sink();
    root.callRemote("start", sink).join();
    await()
        .atMost(java.time.Duration.ofSeconds(60))
        .until(
            () ->
                sink.got.get() == CALLS
                    || !root.connection().isOpen()
                    || sender.failure.get() != null);
    assertThat(sender.failure.get()).isNull();
    assertThat(root.connection().isOpen()).isTrue();
    assertThat(sink.got.get()).isEqualTo(CALLS);
  }
}
