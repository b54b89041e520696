package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.testing.PbCleanup;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link ChunkCodec}'s framing on an {@link EmbeddedChannel}: inbound, whole frames (length,
 * flags byte, chunk) each in a read of its own; outbound, the messages are encoded bodies (the
 * length is added below it, by the frame encoder). The budget, time limits and any split of the
 * stream are in {@link ChunkCodecTest}. Every buffer handed in is checked to be released, and Netty's leak detector runs at
 * paranoid.
 */
class ChunkCodecFramingTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private static final int MAX_FRAME = Wire.MIN_FRAME;
  private static final int CHUNK = MAX_FRAME - 1;
  private static final int MAX_MESSAGE = 3 * CHUNK + 100;

  private final EmbeddedChannel channel = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
  private final List<ByteBuf> handedIn = new ArrayList<>();

  @AfterEach
  void everyBufferHandedInIsReleased() {
    channel.finishAndReleaseAll();
    for (ByteBuf b : handedIn) {
      assertThat(b.refCnt()).as("refCnt of a buffer handed to the codec").isZero();
    }
  }

  /** A frame on the wire: its length, the flags byte, then {@code n} bytes. */
  private ByteBuf frame(int flags, int n, int seed) {
    ByteBuf f =
        Unpooled.buffer(Wire.LENGTH_FIELD + 1 + n)
            .writeInt(1 + n)
            .writeByte(flags)
            .writeBytes(bytes(n, seed));
    handedIn.add(f);
    return f;
  }

  private static byte[] bytes(int n, int seed) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (seed + i);
    }
    return b;
  }

  private static byte[] concat(byte[]... parts) {
    int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
    byte[] all = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }

  private static byte[] readAndRelease(ByteBuf buf) {
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  private static void assertProtocolError(Throwable t, PbException.Code code, String text) {
    assertThat(t).isInstanceOf(PbException.class).hasMessageContaining(text);
    assertThat(((PbException) t).code()).isEqualTo(code);
  }

  // ---- outbound: splitting ----

  @Test
  void messageThatFitsAFrameLeavesAsOneFrameWithoutMore() {
    ByteBuf body = Unpooled.wrappedBuffer(bytes(CHUNK, 1));
    handedIn.add(body);

    ChannelFuture written = channel.writeAndFlush(body);

    assertThat(written.isSuccess()).isTrue();
    byte[] frame = readAndRelease(channel.readOutbound());
    assertThat(frame).hasSize(MAX_FRAME);
    assertThat(frame[0]).isZero();
    assertThat(Arrays.copyOfRange(frame, 1, frame.length)).isEqualTo(bytes(CHUNK, 1));
    assertThat((Object) channel.readOutbound()).isNull();
  }

  @Test
  void messageLargerThanAFrameIsSplitIntoFullFramesFlaggedMore() {
    int size = 2 * CHUNK + 90;
    ByteBuf body = Unpooled.wrappedBuffer(bytes(size, 3));
    handedIn.add(body);

    ChannelFuture written = channel.writeAndFlush(body);

    assertThat(written.isSuccess()).isTrue();
    List<byte[]> frames = new ArrayList<>();
    for (ByteBuf f; (f = channel.readOutbound()) != null; ) {
      frames.add(readAndRelease(f));
    }
    assertThat(frames).extracting(f -> f.length).containsExactly(MAX_FRAME, MAX_FRAME, 91);
    assertThat(frames).extracting(f -> f[0]).containsExactly((byte) Wire.FLAG_MORE, (byte) Wire.FLAG_MORE, (byte) 0);
    byte[] joined =
        concat(
            Arrays.copyOfRange(frames.get(0), 1, MAX_FRAME),
            Arrays.copyOfRange(frames.get(1), 1, MAX_FRAME),
            Arrays.copyOfRange(frames.get(2), 1, 91));
    assertThat(joined).isEqualTo(bytes(size, 3));
  }

  @Test
  void messageOfWholeChunksEndsWithAFullFrameNotAnEmptyOne() {
    ByteBuf body = Unpooled.wrappedBuffer(bytes(2 * CHUNK, 5));
    handedIn.add(body);

    channel.writeAndFlush(body);

    byte[] first = readAndRelease(channel.readOutbound());
    byte[] second = readAndRelease(channel.readOutbound());
    assertThat((Object) channel.readOutbound()).isNull();
    assertThat(first).hasSize(MAX_FRAME);
    assertThat(first[0]).isEqualTo((byte) Wire.FLAG_MORE);
    assertThat(second).hasSize(MAX_FRAME);
    assertThat(second[0]).isZero();
  }

  @Test
  void whatIsNotABufferPassesOutUntouched() {
    channel.writeAndFlush("not a buffer");

    assertThat((Object) channel.readOutbound()).isEqualTo("not a buffer");
  }

  @Test
  void splitFramesJoinBackIntoTheMessage() {
    EmbeddedChannel receiver = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
    int size = 3 * CHUNK + 7;
    ByteBuf body = Unpooled.wrappedBuffer(bytes(size, 9));
    handedIn.add(body);
    channel.writeAndFlush(body);

    for (ByteBuf f; (f = channel.readOutbound()) != null; ) {
      // the frame encoder below the codec adds each frame's length
      receiver.writeInbound(
          Unpooled.wrappedBuffer(Unpooled.buffer(Wire.LENGTH_FIELD).writeInt(f.readableBytes()), f));
    }

    assertThat(readAndRelease(receiver.readInbound())).isEqualTo(bytes(size, 9));
    assertThat(receiver.finishAndReleaseAll()).isFalse();
  }

  // ---- inbound: joining ----

  @Test
  void singleFrameMessagePassesOnWithoutItsFlags() {
    channel.writeInbound(frame(0, 10, 1));

    assertThat(readAndRelease(channel.readInbound())).isEqualTo(bytes(10, 1));
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void framesFlaggedMoreAreJoinedIntoOneMessageUpToExactlyTheLimit() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 2));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 3));
    assertThat((Object) channel.readInbound()).as("nothing before the last frame").isNull();
    channel.writeInbound(frame(0, 100, 4));

    byte[] message = readAndRelease(channel.readInbound());
    assertThat(message).hasSize(MAX_MESSAGE);
    assertThat(message)
        .isEqualTo(concat(bytes(CHUNK, 1), bytes(CHUNK, 2), bytes(CHUNK, 3), bytes(100, 4)));
  }

  @Test
  void lastFrameOfAMessageMayBeTiny() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));
    channel.writeInbound(frame(0, 1, 2));

    assertThat(readAndRelease(channel.readInbound())).isEqualTo(concat(bytes(CHUNK, 1), bytes(1, 2)));
  }

  @Test
  void messageIsRefusedAsSoonAsItsFramesAddUpToMoreThanTheLimit() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 2));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 3));

    // the fourth frame still says MORE: the message is refused now, not at its end
    assertThatThrownBy(() -> channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 4)))
        .satisfies(
            t ->
                assertProtocolError(
                    t,
                    PbException.Code.LIMIT_EXCEEDED,
                    "larger than the message limit of " + MAX_MESSAGE + " bytes"));
    assertThat((Object) channel.readInbound()).isNull();
    for (ByteBuf f : handedIn) {
      assertThat(f.refCnt()).as("frames of the refused message released at once").isZero();
    }
  }

  @Test
  void lastFrameThatTakesAMessageOneByteOverTheLimitIsRefused() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 2));
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 3));

    assertThatThrownBy(() -> channel.writeInbound(frame(0, 101, 4)))
        .satisfies(t -> assertProtocolError(t, PbException.Code.LIMIT_EXCEEDED, "message limit"));
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void emptyFrameIsAProtocolError() {
    ByteBuf empty = Unpooled.buffer(Wire.LENGTH_FIELD).writeInt(0);
    handedIn.add(empty);

    assertThatThrownBy(() -> channel.writeInbound(empty))
        .satisfies(t -> assertProtocolError(t, PbException.Code.PROTOCOL_ERROR, "empty frame"));
    assertThat(empty.refCnt()).isZero();
  }

  @Test
  void unknownFlagsAreAProtocolErrorNamingThem() {
    assertThatThrownBy(() -> channel.writeInbound(frame(0x02, 10, 1)))
        .satisfies(
            t -> assertProtocolError(t, PbException.Code.PROTOCOL_ERROR, "unknown frame flags 0x2"));
    channel.writeInbound(frame(0, 10, 2)); // after a refusal nothing more is read
    assertThat((Object) channel.readInbound()).isNull();
    EmbeddedChannel other = new EmbeddedChannel(new ChunkCodec(MAX_FRAME, MAX_MESSAGE, () -> true));
    assertThatThrownBy(() -> other.writeInbound(frame(0x81, CHUNK, 1)))
        .satisfies(
            t -> assertProtocolError(t, PbException.Code.PROTOCOL_ERROR, "unknown frame flags 0x81"));
    other.finishAndReleaseAll();
  }

  @Test
  void frameFlaggedMoreWithFewerThan255BytesIsAProtocolError() {
    assertThatThrownBy(() -> channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK - 1, 1)))
        .satisfies(
            t ->
                assertProtocolError(
                    t,
                    PbException.Code.PROTOCOL_ERROR,
                    "carries only " + (CHUNK - 1) + " bytes; at least " + CHUNK + " are required"));
  }

  @Test
  void tinyFrameInTheMiddleOfAMessageReleasesTheWholeMessage() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));

    assertThatThrownBy(() -> channel.writeInbound(frame(Wire.FLAG_MORE, 1, 2)))
        .satisfies(t -> assertProtocolError(t, PbException.Code.PROTOCOL_ERROR, "carries only 1 bytes"));
    for (ByteBuf f : handedIn) {
      assertThat(f.refCnt()).isZero();
    }
  }

  @Test
  void partOfAMessageIsReleasedWhenTheChannelCloses() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));
    assertThat(handedIn.get(0).refCnt())
        .as("the read is copied into the codec's own blocks and released at once")
        .isZero();

    channel.close(); // frees the blocks: the leak detector (paranoid) would report them

    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void partOfAMessageIsReleasedWhenTheCodecIsRemoved() {
    channel.writeInbound(frame(Wire.FLAG_MORE, CHUNK, 1));

    channel.pipeline().remove(ChunkCodec.class);

    assertThat(handedIn.get(0).refCnt()).isZero();
  }

  // ---- after a refusal: documents the behaviour as it is today ----
}
