package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import io.pbj.internal.Connection;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
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
 *
 * <p>The wait is on progress, not on a total: all the calls take well under a second on an idle
 * machine, but a run on a loaded one may take much longer without anything being wrong. What is
 * wrong is a receiver that stops taking calls, so the test fails when no call arrives for {@link
 * #STALL}, saying how far the calls got.
 */
@Timeout(300)
class InProcessLargeMessagesTest {
  private static final int CALLS = 20;

  /**
   * Longest wait for the next call. Shorter than the server's own limits for a peer that stops
   * reading (its slow-reader timeout of 30 s, its keep-alive timeout of 45 s), so a receiver
   * that stalls is named here, while it is stalled, rather than hidden behind the connection
   * those limits close.
   */
  private static final Duration STALL = Duration.ofSeconds(20);

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
    /** Calls written so far (each one-way call's future completes once it is written). */
    final AtomicInteger sent = new AtomicInteger();

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
                    sent.incrementAndGet();
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
    while (sink.got.get() < CALLS && root.connection().isOpen() && sender.failure.get() == null) {
      int got = sink.got.get();
      try {
        await()
            .atMost(STALL)
            .until(
                () ->
                    sink.got.get() > got
                        || !root.connection().isOpen()
                        || sender.failure.get() != null);
      } catch (ConditionTimeoutException e) {
        Connection receiver = (Connection) root.connection();
        fail(
            "the receiver took no call for %d s: %d of %d calls arrived, %d were written by the"
                + " sender; the receiving channel reads: %s",
            STALL.toSeconds(), sink.got.get(), CALLS, sender.sent.get(),
            receiver.channel().config().isAutoRead());
      }
    }
    assertThat(sender.failure.get()).isNull();
    assertThat(root.connection().isOpen()).isTrue();
    assertThat(sink.got.get()).isEqualTo(CALLS);
  }
}
