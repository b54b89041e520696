package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbRegistry;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The codec's queue, on an embedded channel with a decode executor the test runs by hand. */
class MessageCodecOffloadTest {
  /** Runs nothing until told: the offloaded decodes wait here. */
  private final ArrayDeque<Runnable> offloaded = new ArrayDeque<>();
  private final Executor manual = offloaded::add;
  private EmbeddedChannel channel;

  @BeforeEach
  void setUp() {
    channel = new EmbeddedChannel();
    BrokerConfig config = new Options("test").config(Runnable::run);
    Connection connection = new Connection(channel, config);
    PbKryo kryo =
        KryoSetup.create(PbRegistry.defaults(), Wire.DEFAULT_MAX_DEPTH, connection.reader());
    channel.pipeline().addLast(new MessageCodec(kryo, connection, connection.reader(), manual));
  }

  private static ByteBuf call(int seq, int payload) {
    return Unpooled.wrappedBuffer(
        TestAccess.body(
            PbRegistry.defaults(),
            new Message.Call(seq, 0, "note", new Object[] {seq, new byte[payload]}, false)));
  }

  private List<Integer> delivered() {
    List<Integer> seqs = new ArrayList<>();
    for (Object m; (m = channel.readInbound()) != null; ) {
      seqs.add(((Message.Call) ((MessageCodec.Inbound) m).message()).requestId());
    }
    return seqs;
  }

  /** Runs the offloaded decodes and the event loop's tasks until nothing is left. */
  private void runAll() {
    while (!offloaded.isEmpty()) {
      offloaded.poll().run();
      channel.runPendingTasks();
    }
    channel.runPendingTasks();
  }

  @Test
  void smallMessagesDecodeAtOnceAndLargeOnesOffTheEventLoopInArrivalOrder() {
    int large = MessageCodec.INLINE_MAX + 1;
    channel.writeInbound(call(1, 10));
    assertThat(delivered()).containsExactly(1);
    channel.writeInbound(call(2, large), call(3, 10), call(4, large), call(5, 10));
    assertThat(delivered()).as("all wait behind the large one").isEmpty();
    assertThat(offloaded).hasSize(1);
    runAll();
    assertThat(delivered()).containsExactly(2, 3, 4, 5);
  }

  @Test
  void oneReadDecodesAtMostTheInlineLimitOnTheEventLoopBeforeOtherChannelsGetATurn() {
    int size = 4 << 10;
    for (int seq = 1; seq <= 10; seq++) {
      channel.pipeline().fireChannelRead(call(seq, size)); // ten messages of one socket read
    }
    List<Integer> first = delivered();
    assertThat(first)
        .as("decoded on the event loop within this read")
        .hasSizeLessThanOrEqualTo(MessageCodec.INLINE_MAX / size)
        .isNotEmpty();
    assertThat(offloaded).as("small messages are not offloaded").isEmpty();
    channel.pipeline().fireChannelReadComplete();
    channel.runPendingTasks(); // the loop's later turns
    List<Integer> all = new ArrayList<>(first);
    all.addAll(delivered());
    assertThat(all).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
  }

  @Test
  void smallMessagesThatDecodeLargeAreChargedToTheTurnByWhatTheyDecodeTo() {
    // a few bytes each on the wire, a list of 200,000 nulls (800 KB) each once decoded
    List<ByteBuf> bufs = new ArrayList<>();
    for (int seq = 1; seq <= 10; seq++) {
      ByteBuf b =
          Unpooled.wrappedBuffer(
              TestAccess.body(
                  PbRegistry.defaults(),
                  new Message.Call(
                      seq, 0, "note",
                      new Object[] {new ArrayList<>(TestAccess.repeatedList(null, 200_000))},
                      false)));
      bufs.add(b);
    }
    int wire = bufs.stream().mapToInt(ByteBuf::readableBytes).sum();
    assertThat(wire).as("ten messages on the wire").isLessThan(MessageCodec.INLINE_MAX / 4);
    for (ByteBuf b : bufs) {
      channel.pipeline().fireChannelRead(b); // ten messages of one socket read
    }
    List<Object> first = new ArrayList<>();
    for (Object m; (m = channel.readInbound()) != null; ) {
      first.add(m);
    }
    assertThat(first).as("decoded on the event loop within this read").hasSize(1);
    channel.pipeline().fireChannelReadComplete();
    channel.runPendingTasks();
    int rest = 0;
    for (Object m; (m = channel.readInbound()) != null; ) {
      rest++;
    }
    assertThat(rest).isEqualTo(9);
  }

  @Test
  void readingStopsWhileMoreThanTheQueueLimitWaitsAndResumesWhenHalfIsDecoded() {
    int large = 200 << 10;
    channel.writeInbound(call(0, large));
    int seq = 1;
    for (; seq < 100 && channel.config().isAutoRead(); seq++) {
      channel.writeInbound(call(seq, large));
    }
    assertThat(channel.config().isAutoRead()).as("reading stopped").isFalse();
    assertThat((long) (seq - 1) * large).isGreaterThan(MessageCodec.QUEUED_MAX);
    while (!channel.config().isAutoRead()) {
      offloaded.poll().run();
      channel.runPendingTasks();
    }
    runAll();
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < seq; i++) {
      expected.add(i);
    }
    assertThat(delivered()).isEqualTo(expected);
    assertThat(channel.config().isAutoRead()).isTrue();
  }

  @Test
  void closingReleasesTheWaitingBuffersAndTheOneStillQueuedForThePoolAtOnce() {
    int large = MessageCodec.INLINE_MAX * 2;
    List<ByteBuf> sent = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ByteBuf buf = call(i, large);
      sent.add(buf);
      channel.writeInbound(buf);
    }
    assertThat(offloaded).hasSize(1);
    channel.close();
    // the first is in the pool's queue: it must not hold its buffer until the pool runs it (a
    // busy pool would let closed connections' messages pile up beyond the server's budget)
    for (ByteBuf buf : sent) {
      assertThat(buf.refCnt()).as("a waiting or queued message's buffer").isZero();
    }
    runAll(); // the pool's task finds nothing left to decode
    assertThat(delivered()).isEmpty();
  }

  @Test
  void aGoodbyeWaitingBehindADecodeWhenThePeerClosesStillSaysWhy() {
    channel.writeInbound(call(1, MessageCodec.INLINE_MAX * 2)); // on the pool, not done yet
    channel.writeInbound(
        Unpooled.wrappedBuffer(
            TestAccess.body(PbRegistry.defaults(), new Message.Goodbye("you sent too much"))));
    assertThat(delivered()).as("the goodbye waits behind the decode").isEmpty();
    channel.close(); // the peer's end of stream arrives before the decode is done
    List<Object> after = new ArrayList<>();
    for (Object m; (m = channel.readInbound()) != null; ) {
      after.add(((MessageCodec.Inbound) m).message());
    }
    assertThat(after).containsExactly(new Message.Goodbye("you sent too much"));
    runAll();
    assertThat(channel.<Object>readInbound()).as("the decode's result is dropped").isNull();
  }
}
