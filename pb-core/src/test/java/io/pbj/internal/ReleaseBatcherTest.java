package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbRegistry;
import io.pbj.testing.PbCleanup;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link ReleaseBatcher} with a fake event loop (a queue this test runs by hand) and a sender that
 * records what it is given.
 */
class ReleaseBatcherTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private static final String OWNER = "PbConnection[under test]";

  private final QueuedExecutor eventLoop = new QueuedExecutor();
  private final AtomicBoolean open = new AtomicBoolean(true);
  private final List<Message.Release> sent = new CopyOnWriteArrayList<>();

  private ReleaseBatcher batcher(int maxMessage) {
    return batcher(maxMessage, sent::add);
  }

  private ReleaseBatcher batcher(int maxMessage, Consumer<Message.Release> sender) {
    return new ReleaseBatcher(OWNER, eventLoop, maxMessage, open::get, sender);
  }

  /** Every (id, receipts) pair sent, in order, as "id:receipts". */
  private List<String> sentPairs() {
    List<String> pairs = new ArrayList<>();
    for (Message.Release r : sent) {
      assertThat(r.ids()).hasSameSizeAs(r.receipts());
      for (int i = 0; i < r.ids().length; i++) {
        pairs.add(r.ids()[i] + ":" + r.receipts()[i]);
      }
    }
    return pairs;
  }

  private List<Integer> batchSizes() {
    return sent.stream().map(r -> r.ids().length).toList();
  }

  @Test
  void releasesAddedFromSeveralThreadsAreFlushedByOneScheduledTask() throws Exception {
    ReleaseBatcher batcher = batcher(Wire.DEFAULT_MAX_MESSAGE);
    int threads = 4;
    int perThread = 250;
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> adders = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int base = t * perThread;
      Thread adder =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException e) {
                  return;
                }
                for (int i = 0; i < perThread; i++) {
                  batcher.add(base + i, 1 + (base + i) % 3);
                }
              });
      adder.start();
      adders.add(adder);
    }
    start.countDown();
    for (Thread adder : adders) {
      adder.join();
    }

    assertThat(eventLoop.queued()).as("flushes scheduled").isEqualTo(1);
    assertThat(sent).as("nothing sent before the flush runs").isEmpty();
    eventLoop.runNext();

    List<String> expected = new ArrayList<>();
    for (int i = 0; i < threads * perThread; i++) {
      expected.add(i + ":" + (1 + i % 3));
    }
    assertThat(sent).hasSize(1);
    assertThat(sentPairs()).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void releaseAfterAFlushSchedulesTheNextFlush() {
    ReleaseBatcher batcher = batcher(Wire.DEFAULT_MAX_MESSAGE);
    batcher.add(1, 1);
    eventLoop.runNext();
    batcher.add(2, 5);
    batcher.add(3, 1);

    assertThat(eventLoop.queued()).isEqualTo(1);
    eventLoop.runNext();
    assertThat(sentPairs()).containsExactly("1:1", "2:5", "3:1");
    assertThat(batchSizes()).containsExactly(1, 2);
  }

  @Test
  void batchesSplitAtTheEntriesPerMessageInOrder() {
    ReleaseBatcher batcher = batcher(Wire.MIN_FRAME);
    int perMessage = ReleaseBatcher.perMessage(Wire.MIN_FRAME);
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 2 * perMessage + 5; i++) {
      batcher.add(i, i + 1);
      expected.add(i + ":" + (i + 1));
    }

    eventLoop.runAll();

    assertThat(batchSizes()).containsExactly(perMessage, perMessage, 5);
    assertThat(sentPairs()).containsExactlyElementsOf(expected);
  }

  @Test
  void entriesPerMessageFollowTheMessageLimitWithinTheirBounds() {
    assertThat(ReleaseBatcher.perMessage(Wire.MIN_FRAME)).isEqualTo(16);
    assertThat(ReleaseBatcher.perMessage(1000)).isEqualTo(62);
    assertThat(ReleaseBatcher.perMessage(Wire.DEFAULT_MAX_FRAME)).isEqualTo(4096);
    assertThat(ReleaseBatcher.perMessage(Wire.DEFAULT_MAX_MESSAGE)).isEqualTo(4096);
    assertThat(ReleaseBatcher.perMessage(Integer.MAX_VALUE)).isEqualTo(4096);
  }

  /**
   * The batch formula's claim, checked against the real encoding: a full batch of the largest ids
   * and receipts (5-byte varints each), encoded by a connection with that message limit as it
   * sends it, fits the limit, and a receiver with that limit decodes it.
   */
  @ParameterizedTest
  @ValueSource(ints = {Wire.MIN_FRAME, Wire.MIN_FRAME + 1, 300, 1000, 4095, 65535, 65536, 1 << 20, 64 << 20})
  void fullBatchOfTheLargestIdsAndReceiptsFitsTheMessageLimit(int maxMessage) {
    EmbeddedChannel channel = new EmbeddedChannel();
    BrokerConfig config =
        TestConfigs.config(
            PbRegistry.defaults(), eventLoop, Math.min(maxMessage, Wire.DEFAULT_MAX_FRAME), maxMessage);
    Connection connection = new Connection(channel, config);
    List<Integer> encodedSizes = new ArrayList<>();
    ReleaseBatcher batcher =
        batcher(
            maxMessage,
            release -> {
              ByteBuf buf = connection.encode(release);
              try {
                encodedSizes.add(buf.readableBytes());
                Message decoded =
                    WireCodec.decode(
                        ByteBufUtil.getBytes(buf),
                        KryoSetup.create(PbRegistry.defaults(), Wire.DEFAULT_MAX_DEPTH, connection.reader()),
                        Wire.DEFAULT_MAX_DEPTH,
                        maxMessage);
                assertThat(((Message.Release) decoded).ids()).isEqualTo(release.ids());
                assertThat(((Message.Release) decoded).receipts()).isEqualTo(release.receipts());
              } finally {
                buf.release();
              }
              sent.add(release);
            });
    int perMessage = ReleaseBatcher.perMessage(maxMessage);
    for (int i = 0; i < perMessage + 1; i++) {
      batcher.add(Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    eventLoop.runNext();

    assertThat(batchSizes()).containsExactly(perMessage, 1);
    // type byte, a count of at most 4096 (2 varint bytes), two 5-byte varints an entry
    assertThat(encodedSizes.get(0)).isEqualTo(1 + (perMessage < 128 ? 1 : 2) + 10 * perMessage);
    assertThat(encodedSizes).allSatisfy(size -> assertThat(size).isLessThanOrEqualTo(maxMessage));
    channel.finishAndReleaseAll();
  }

  @Test
  void nothingIsSentOnceTheConnectionIsClosedAndTheQueueIsDropped() {
    ReleaseBatcher batcher = batcher(Wire.DEFAULT_MAX_MESSAGE);
    batcher.add(1, 1);
    batcher.add(2, 1);
    open.set(false);

    eventLoop.runAll();
    assertThat(sent).isEmpty();

    // the closed flush dropped what it found rather than keeping it for later
    open.set(true);
    batcher.add(3, 1);
    eventLoop.runAll();
    assertThat(sentPairs()).containsExactly("3:1");
  }

  @Test
  void throwingSenderIsLoggedAndDoesNotLoseLaterBatches() {
    AtomicInteger attempts = new AtomicInteger();
    ReleaseBatcher batcher =
        batcher(
            Wire.MIN_FRAME,
            release -> {
              if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("channel refused the batch");
              }
              sent.add(release);
            });
    int perMessage = ReleaseBatcher.perMessage(Wire.MIN_FRAME);
    for (int i = 0; i < 3 * perMessage; i++) {
      batcher.add(i, 1);
    }

    String log = capturingStandardError(eventLoop::runAll);

    assertThat(attempts.get()).isEqualTo(3);
    assertThat(batchSizes()).containsExactly(perMessage, perMessage);
    assertThat(sentPairs().get(0)).isEqualTo(perMessage + ":1");
    assertThat(log)
        .contains(OWNER + ": could not send a release batch of " + perMessage + " ids")
        .contains("channel refused the batch");

    batcher.add(1000, 2);
    eventLoop.runAll();
    assertThat(sentPairs()).endsWith("1000:2");
  }

  @Test
  void clearDropsWhatWasQueued() {
    ReleaseBatcher batcher = batcher(Wire.DEFAULT_MAX_MESSAGE);
    batcher.add(1, 1);
    batcher.add(2, 1);

    batcher.clear();
    batcher.add(3, 4);
    eventLoop.runAll();

    assertThat(sentPairs()).containsExactly("3:4");
  }

  /** Runs {@code task} and returns what was logged to standard error meanwhile (slf4j-simple). */
  private static String capturingStandardError(Runnable task) {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      task.run();
    } finally {
      System.setErr(original);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
