package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.LengthFieldPrepender;
import io.pbj.PbException;
import io.pbj.testing.PbCleanup;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The codec that reads the stream itself: messages survive any split of the stream into reads,
 * and what it holds between reads is charged to the budget, refunded, evicted and timed.
 */
class ChunkCodecTest {
  static final int MAX_FRAME = 4096;
  static final int MAX_MESSAGE = 1 << 20;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** The bytes a peer's codec puts on the wire for {@code messages}. */
  static byte[] wire(List<byte[]> messages) {
    EmbeddedChannel out =
        new EmbeddedChannel(
            new LengthFieldPrepender(Wire.LENGTH_FIELD),
            new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
    for (byte[] m : messages) {
      out.writeOutbound(Unpooled.wrappedBuffer(m));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    ByteBuf b;
    while ((b = out.readOutbound()) != null) {
      bytes.writeBytes(ByteBufUtil.getBytes(b));
      b.release();
    }
    out.finishAndReleaseAll();
    return bytes.toByteArray();
  }

  static List<byte[]> messages(Random random, int... sizes) {
    List<byte[]> messages = new ArrayList<>();
    for (int size : sizes) {
      byte[] m = new byte[size];
      random.nextBytes(m);
      messages.add(m);
    }
    return messages;
  }

  /** Feeds {@code stream} in reads of {@code split} bytes; returns the messages that came out. */
  static List<byte[]> read(EmbeddedChannel in, byte[] stream, int split) {
    List<byte[]> got = new ArrayList<>();
    for (int i = 0; i < stream.length; i += split) {
      int n = Math.min(split, stream.length - i);
      in.writeInbound(Unpooled.copiedBuffer(stream, i, n));
      ByteBuf m;
      while ((m = in.readInbound()) != null) {
        got.add(ByteBufUtil.getBytes(m));
        m.release();
      }
    }
    return got;
  }

  @Test
  void messagesSurviveAnySplitOfTheStream() {
    Random random = new Random(7);
    // sizes around the frame and block boundaries; the empty message is one frame of flags
    List<byte[]> small = messages(random, 0, 1, 254, 255, 256, 1000, 4094, 4095, 4096, 9000);
    List<byte[]> large =
        messages(random, 65535, 65536, 65537, 200_000, 3, 131_072 + 4095, 0, 70_000);
    for (int split : new int[] {1, 2, 3, 5, 7, 254, 4095, 4096, 4101}) {
      EmbeddedChannel in = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
      assertThat(read(in, wire(small), split)).as("split %d", split).containsExactlyElementsOf(small);
      assertThat(in.finish()).isFalse();
    }
    for (int split : new int[] {97, 4096, 65536, 65537, 1 << 20}) {
      EmbeddedChannel in = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
      assertThat(read(in, wire(large), split)).as("split %d", split).containsExactlyElementsOf(large);
      assertThat(in.finish()).isFalse();
    }
  }

  static EmbeddedChannel server(InboundBudget budget, long timeoutNanos) {
    return new EmbeddedChannel(
        new ChunkCodec(
            MAX_FRAME,
            MAX_MESSAGE,
            () -> true,
            new ChunkCodec.Limits(budget, timeoutNanos, 0, () -> true)));
  }

  @Test
  void bytesHeldBetweenReadsAreChargedAndRefunded() {
    InboundBudget budget = new InboundBudget(1 << 20);
    EmbeddedChannel in = server(budget, 0);
    byte[] stream = wire(messages(new Random(1), 100_000));
    int half = 50_000;
    in.writeInbound(Unpooled.copiedBuffer(stream, 0, half));
    assertThat((Object) in.readInbound()).isNull();
    // blocks grow by doubling: at most twice what arrived (headers aside), plus one minimum block
    assertThat(budget.used()).isPositive().isLessThanOrEqualTo(2L * half + 64);
    in.writeInbound(Unpooled.copiedBuffer(stream, half, stream.length - half));
    ByteBuf whole = in.readInbound();
    assertThat(whole.readableBytes()).isEqualTo(100_000);
    whole.release();
    assertThat(budget.used()).isZero();

    // an unfinished message is refunded when the channel closes
    in.writeInbound(Unpooled.copiedBuffer(stream, 0, half));
    assertThat(budget.used()).isPositive();
    in.close();
    assertThat(budget.used()).isZero();
    in.finishAndReleaseAll();
  }

  @Test
  void aMessageInOneReadIsNotCopiedOrCharged() {
    InboundBudget budget = new InboundBudget(1 << 20);
    EmbeddedChannel in = server(budget, 0);
    byte[] stream = wire(messages(new Random(2), 3000));
    ByteBuf read = Unpooled.copiedBuffer(stream);
    in.writeInbound(read);
    ByteBuf message = in.readInbound();
    assertThat(message.unwrap()).as("a slice of the read").isSameAs(read);
    message.release();
    assertThat(budget.used()).isZero();
    in.finishAndReleaseAll();
  }

  @Test
  void whenTheBudgetRunsOutTheLargestHolderIsClosedAndTheAskerGoesOn() {
    InboundBudget budget = new InboundBudget(300_000);
    EmbeddedChannel big = server(budget, 0);
    EmbeddedChannel small = server(budget, 0);
    byte[] bigStream = wire(messages(new Random(3), 500_000));
    big.writeInbound(Unpooled.copiedBuffer(bigStream, 0, 200_000));
    long held = budget.used();
    assertThat(held).isGreaterThanOrEqualTo(200_000);

    byte[] smallStream = wire(messages(new Random(4), 150_000));
    small.writeInbound(Unpooled.copiedBuffer(smallStream, 0, 120_000));
    small.writeInbound(Unpooled.copiedBuffer(smallStream, 120_000, smallStream.length - 120_000));
    ByteBuf whole = small.readInbound();
    assertThat(whole.readableBytes()).isEqualTo(150_000);
    whole.release();

    big.runPendingTasks();
    assertThatThrownBy(big::checkException)
        .isInstanceOf(PbException.class)
        .hasMessageContaining("budget for partly received messages and messages waiting to be decoded (300000 bytes")
        .hasMessageContaining("held the most");
    assertThat(budget.used()).isZero();
    // the evicted codec reads nothing more
    big.writeInbound(Unpooled.copiedBuffer(bigStream, 200_000, bigStream.length - 200_000));
    assertThat((Object) big.readInbound()).isNull();
    big.finishAndReleaseAll();
    small.finishAndReleaseAll();
  }

  @Test
  void theAskerIsRefusedWhenItWouldHoldTheMost() {
    InboundBudget budget = new InboundBudget(300_000);
    EmbeddedChannel first = server(budget, 0);
    EmbeddedChannel second = server(budget, 0);
    byte[] stream = wire(messages(new Random(5), 250_000));
    byte[] larger = wire(messages(new Random(5), 400_000));
    first.writeInbound(Unpooled.copiedBuffer(stream, 0, 100_000));
    assertThatThrownBy(() -> second.writeInbound(Unpooled.copiedBuffer(larger)))
        .isInstanceOf(PbException.class)
        .hasMessageContaining("would hold the most");
    assertThat(budget.used()).as("only the first one's bytes").isLessThanOrEqualTo(2L * 100_000);
    first.runPendingTasks();
    first.checkException(); // untouched
    first.writeInbound(Unpooled.copiedBuffer(stream, 100_000, stream.length - 100_000));
    ByteBuf whole = first.readInbound();
    assertThat(whole.readableBytes()).isEqualTo(250_000);
    whole.release();
    first.finishAndReleaseAll();
    second.finishAndReleaseAll();
  }

  @Test
  void aMessageNotFinishedInTimeFailsTheConnection() {
    InboundBudget budget = new InboundBudget(1 << 20);
    EmbeddedChannel in = server(budget, TimeUnit.SECONDS.toNanos(5));
    in.freezeTime();
    byte[] stream = wire(messages(new Random(6), 20_000));
    in.writeInbound(Unpooled.copiedBuffer(stream, 0, 10_000));
    in.advanceTimeBy(4, TimeUnit.SECONDS);
    in.runScheduledPendingTasks();
    in.checkException();
    in.advanceTimeBy(1, TimeUnit.SECONDS);
    in.runScheduledPendingTasks();
    assertThatThrownBy(in::checkException)
        .isInstanceOf(PbException.class)
        .hasMessageContaining("did not arrive whole within 5000 ms");
    assertThat(budget.used()).isZero();
    in.finishAndReleaseAll();
  }

  @Test
  void theTimeLimitAppliesToEachMessageFromItsOwnStart() {
    EmbeddedChannel in = server(null, TimeUnit.SECONDS.toNanos(5));
    in.freezeTime();
    byte[] first = wire(messages(new Random(8), 20_000));
    byte[] second = wire(messages(new Random(9), 20_000));
    in.writeInbound(Unpooled.copiedBuffer(first, 0, 10_000));
    in.advanceTimeBy(4, TimeUnit.SECONDS);
    // the first one ends and the second begins in the same read
    byte[] joined = new byte[first.length - 10_000 + 10_000];
    System.arraycopy(first, 10_000, joined, 0, first.length - 10_000);
    System.arraycopy(second, 0, joined, first.length - 10_000, 10_000);
    in.writeInbound(Unpooled.wrappedBuffer(joined));
    ((ByteBuf) in.readInbound()).release();
    in.advanceTimeBy(4, TimeUnit.SECONDS);
    in.runScheduledPendingTasks();
    in.checkException(); // 8 s after the first began, 4 s after the second
    in.advanceTimeBy(1, TimeUnit.SECONDS);
    in.runScheduledPendingTasks();
    assertThatThrownBy(in::checkException).hasMessageContaining("did not arrive whole");
    in.finishAndReleaseAll();
  }

  @Test
  void beforeAdmissionTheSmallerLimitApplies() {
    AtomicBoolean admitted = new AtomicBoolean();
    EmbeddedChannel in =
        new EmbeddedChannel(
            new ChunkCodec(
                MAX_FRAME,
                MAX_MESSAGE,
                () -> true,
                new ChunkCodec.Limits(null, 0, 10_000, admitted::get)));
    byte[] fits = wire(messages(new Random(10), 10_000));
    byte[] tooBig = wire(messages(new Random(11), 10_001));
    assertThat(read(in, fits, fits.length)).hasSize(1);
    admitted.set(true);
    assertThat(read(in, tooBig, tooBig.length)).hasSize(1);
    admitted.set(false);
    assertThatThrownBy(() -> read(in, tooBig, tooBig.length))
        .isInstanceOf(PbException.class)
        .hasMessageContaining("larger than the limit of 10000 bytes for a connection that has not")
        .hasMessageContaining("maxMessageSizeBeforeLogin");
    in.finishAndReleaseAll();
  }

  @Test
  void nothingIsReadOnceTheConnectionStopsAccepting() {
    AtomicBoolean accepting = new AtomicBoolean(true);
    EmbeddedChannel in = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, accepting::get));
    // the first message's delivery fails the connection: the second, in the same read, is dropped
    in.pipeline()
        .addLast(
            new io.netty.channel.ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                accepting.set(false);
                ctx.fireChannelRead(msg);
              }
            });
    byte[] stream = wire(messages(new Random(12), 100, 100));
    assertThat(read(in, stream, stream.length)).hasSize(1);
    in.finishAndReleaseAll();
  }
}
