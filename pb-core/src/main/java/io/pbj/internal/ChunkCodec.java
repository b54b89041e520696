package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.PromiseCombiner;
import io.netty.util.concurrent.ScheduledFuture;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Frames and chunks (docs/PROTOCOL.md, section 2). Outgoing, it splits a message into frames of
 * at most the frame limit, each led by a flags byte ({@link Wire#FLAG_MORE} on all but the last);
 * the {@code frame-encoder} below it adds the length. Incoming, it reads the stream itself:
 * length, flags and chunk of each frame, joined into whole messages.
 *
 * <p>Reading the stream here, rather than behind a generic frame decoder, is what bounds memory:
 * every byte a connection holds between reads (a frame still arriving, the chunks of a message
 * so far) is copied into blocks this codec owns and charged to the server's {@link
 * InboundBudget} before they are allocated, so a connection holds exactly what it was charged
 * (blocks grow by doubling, so at most twice what arrived, plus 64 bytes). A frame that arrives
 * whole within one read, the usual case, goes on as a slice without a copy. Each frame's length,
 * flags and the size of the message so far are checked as soon as its header is read, before
 * anything is allocated for it.
 *
 * <p>A server adds {@link Limits}: the budget, a time limit from a message's first byte to its
 * last, and a smaller message limit until the connection is admitted (handshake and login).
 * Each completed frame of a message that continues in a later frame is announced downstream as
 * {@link #FRAME_PROGRESS}, which keep-alive counts as traffic.
 *
 * <p>Once it has refused anything, or the connection has started closing, it drops every later
 * byte unread: nothing the peer sent after a refused message may be decoded or run.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class ChunkCodec extends ChannelDuplexHandler {
  /** User event: one more frame of a message that continues in a later frame has arrived. */
  static final Object FRAME_PROGRESS =
      new Object() {
        @Override
        public String toString() {
          return "FRAME_PROGRESS";
        }
      };

  /** Largest block of a message held between reads. */
  static final int BLOCK = 64 << 10;

  private static final int HEADER = Wire.LENGTH_FIELD + 1;

  /** Why a HELLO can be large, and what to do: said on both sides (the peer gets a GOODBYE). */
  private static final String HELLO_HINT =
      "; a HELLO names every class of its sender's registry (about 50 bytes a class): register"
          + " the same classes on both sides, or raise the limit";

  /**
   * What a server adds to the limits of its connections' codecs.
   *
   * @param budget the server's budget for partly received messages, or null for none
   * @param messageTimeoutNanos time from a message's first byte to its last; 0 for none
   * @param maxBeforeAdmission largest message until {@code admitted} says so; 0 for none
   * @param admitted whether the connection has finished its handshake (and login, where required)
   * @param maxIncoming largest message at any time, below the message limit this side also
   *     sends with; 0 for none
   */
  record Limits(
      InboundBudget budget,
      long messageTimeoutNanos,
      int maxBeforeAdmission,
      BooleanSupplier admitted,
      int maxIncoming) {
    /** A client's: nothing beyond the frame and message limits. */
    static final Limits NONE = new Limits(null, 0, 0, () -> true, 0);

    Limits(
        InboundBudget budget,
        long messageTimeoutNanos,
        int maxBeforeAdmission,
        BooleanSupplier admitted) {
      this(budget, messageTimeoutNanos, maxBeforeAdmission, admitted, 0);
    }
  }

  /**
   * Bytes read and dropped once the connection has started closing, after which it is no longer
   * read: it lingers after its goodbye so that the peer reads the goodbye rather than a reset,
   * and a peer that keeps streaming instead of closing must not keep an event loop busy for the
   * whole grace (747 MB were read in that second). An honest peer has at most what was already
   * on its way when the goodbye left, well under this.
   */
  static final int DROP_MAX = 4 << 20;

  private final int maxFrame;
  private final int maxMessage;
  private final BooleanSupplier accepting;
  private final Limits limits;
  private final ChannelFutureListener countWritten;

  private InboundBudget.Holder holder;
  private boolean refused;
  /** Bytes dropped since the connection stopped accepting input. */
  private long dropped;
  /** Header bytes of the current frame read so far, 0..HEADER. */
  private int headerBytes;
  private int length;
  private int flags;
  /** Chunk bytes of the current frame still to come. */
  private int bodyLeft;
  /** Chunk bytes of the current message, counting the current frame's in full. */
  private long messageSize;
  /** Full blocks of the current message; null while it has none. */
  private CompositeByteBuf blocks;
  /** The block being filled; null while there is none. */
  private ByteBuf block;
  /** Whether a message is in progress across reads; then {@link #messageStart} says since when. */
  private boolean timing;
  /** When the message now in progress was first seen incomplete (the executor's ticker). */
  private long messageStart;
  private ScheduledFuture<?> timer;
  private long framesWritten;
  /** Whether a whole message has arrived: the first one is the peer's registry HELLO. */
  private boolean delivered;

  /** A client's codec. */
  ChunkCodec(int maxFrame, int maxMessage, BooleanSupplier accepting) {
    this(maxFrame, maxMessage, accepting, Limits.NONE);
  }

  /**
   * @param accepting false once the connection has started closing: nothing more is read
   */
  ChunkCodec(int maxFrame, int maxMessage, BooleanSupplier accepting, Limits limits) {
    this.maxFrame = maxFrame;
    this.maxMessage = maxMessage;
    this.accepting = accepting;
    this.limits = limits;
    this.countWritten =
        f -> {
          if (f.isSuccess()) {
            framesWritten++;
          }
        };
  }

  /** Frames this side has handed to the socket so far: the peer is taking our output. */
  long framesWritten() {
    return framesWritten;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    InboundBudget budget = limits.budget();
    if (budget != null) {
      holder =
          budget.holder(
              cause -> {
                try {
                  ctx.executor().execute(() -> failLater(ctx, cause));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                  // the event loop is shutting down: the channel closes with it
                }
              });
    }
  }

  // ---- incoming ----

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    try {
      if (refused || !accepting.getAsBoolean()) {
        stop();
        dropped += in.readableBytes();
        if (dropped > DROP_MAX) {
          // held as a reason of its own, so no other handler's resume reads on; the grace's
          // timer closes the channel
          ReadPause.pause(ctx.channel(), "closing, dropped enough");
        }
        return;
      }
      read(ctx, in);
    } catch (RuntimeException e) {
      stop();
      throw e;
    } finally {
      in.release();
    }
    if (!refused && inProgress()) {
      if (!timing) {
        timing = true;
        messageStart = ctx.executor().ticker().nanoTime();
      }
      armTimer(ctx);
    }
  }

  private void read(ChannelHandlerContext ctx, ByteBuf in) {
    while (in.isReadable()) {
      if (headerBytes < HEADER) {
        if (headerBytes == 0 && in.readableBytes() >= HEADER) {
          length = in.readInt();
          checkLength();
          flags = in.readUnsignedByte();
          headerBytes = HEADER;
        } else {
          if (headerBytes == 0) {
            length = 0;
          }
          while (headerBytes < HEADER && in.isReadable()) {
            int b = in.readUnsignedByte();
            if (headerBytes < Wire.LENGTH_FIELD) {
              length = (length << 8) | b;
              if (headerBytes == Wire.LENGTH_FIELD - 1) {
                checkLength();
              }
            } else {
              flags = b;
            }
            headerBytes++;
          }
          if (headerBytes < HEADER) {
            return;
          }
        }
        startFrame();
      }
      boolean more = (flags & Wire.FLAG_MORE) != 0;
      if (bodyLeft > 0) {
        if (!more && blocks == null && block == null && in.readableBytes() >= bodyLeft) {
          // a whole message in this read: no copy
          ByteBuf body = in.readRetainedSlice(bodyLeft);
          bodyLeft = 0;
          if (!deliver(ctx, body)) {
            return;
          }
          continue;
        }
        int n = Math.min(bodyLeft, in.readableBytes());
        append(ctx, in, n);
        bodyLeft -= n;
        if (bodyLeft > 0) {
          return;
        }
      }
      if (more) {
        headerBytes = 0;
        ctx.fireUserEventTriggered(FRAME_PROGRESS);
      } else if (!deliver(ctx, take(ctx))) {
        return;
      }
    }
  }

  /** Checks a frame's length as soon as it is read. */
  private void checkLength() {
    if (length <= 0) {
      throw new PbException(
          Code.PROTOCOL_ERROR, length == 0 ? "empty frame" : "corrupt frame: length " + length);
    }
    if (length > maxFrame) {
      throw new PbException(
          Code.LIMIT_EXCEEDED,
          "frame refused: a frame of " + length + " bytes is larger than the frame limit of "
              + maxFrame + " bytes" + (delivered ? "" : " (a frame of the registry HELLO received"
              + " from a peer with a larger frame limit)" + HELLO_HINT));
    }
  }

  /** Checks the rest of the header just read, before anything is allocated for the frame. */
  private void startFrame() {
    if ((flags & ~Wire.FLAG_MORE) != 0) {
      throw new PbException(
          Code.PROTOCOL_ERROR, "unknown frame flags 0x" + Integer.toHexString(flags));
    }
    int chunk = length - 1;
    if ((flags & Wire.FLAG_MORE) != 0 && chunk < Wire.MIN_FRAME - 1) {
      // senders fill every frame but the last; tiny ones would only cost us memory
      throw new PbException(
          Code.PROTOCOL_ERROR,
          "a frame with more to follow carries only " + chunk + " bytes; at least "
              + (Wire.MIN_FRAME - 1) + " are required");
    }
    long total = messageSize + chunk;
    // The first message is the peer's registry HELLO; the reasons below also reach the peer in
    // a GOODBYE ("the peer said goodbye: ..."), so they name who refused what.
    if (total > maxMessage) {
      throw new PbException(
          Code.LIMIT_EXCEEDED,
          delivered
              ? "incoming message is larger than the message limit of " + maxMessage + " bytes"
              : "the registry HELLO received is larger than the message limit of " + maxMessage
                  + " bytes of the side receiving it (its maxMessageSize)" + HELLO_HINT);
    }
    int incoming = limits.maxIncoming();
    if (incoming > 0 && total > incoming && delivered) {
      throw new PbException(
          Code.LIMIT_EXCEEDED,
          "incoming message is larger than the limit of " + incoming + " bytes this server takes"
              + " (PbServer.Builder.maxIncomingMessageSize)");
    }
    int early = limits.maxBeforeAdmission();
    if (early > 0 && total > early && !limits.admitted().getAsBoolean()) {
      throw new PbException(
          Code.LIMIT_EXCEEDED,
          delivered
              ? "incoming message is larger than the limit of " + early + " bytes for a"
                  + " connection that has not finished its handshake and login"
                  + " (PbServer.Builder.maxMessageSizeBeforeLogin)"
              : "the server refused the client's registry HELLO: it is larger than the limit of "
                  + early + " bytes for a connection that has not finished its handshake and"
                  + " login (PbServer.Builder.maxMessageSizeBeforeLogin)" + HELLO_HINT);
    }
    messageSize = total;
    bodyLeft = chunk;
  }

  /** Copies {@code n} bytes of {@code in} into the message's blocks, charging what they take. */
  private void append(ChannelHandlerContext ctx, ByteBuf in, int n) {
    while (n > 0) {
      if (block != null && !block.isWritable() && block.capacity() == BLOCK) {
        if (blocks == null) {
          blocks = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        blocks.addComponent(true, block);
        block = null;
      }
      int want = Math.min(BLOCK, (block == null ? 0 : block.writerIndex()) + n);
      if (block == null) {
        int capacity = ctx.alloc().calculateNewCapacity(want, BLOCK);
        charge(capacity);
        block = ctx.alloc().buffer(capacity, BLOCK);
      } else if (want > block.capacity()) {
        int capacity = ctx.alloc().calculateNewCapacity(want, BLOCK);
        charge(capacity - block.capacity());
        block.capacity(capacity);
      }
      int k = Math.min(n, block.writableBytes());
      block.writeBytes(in, k);
      n -= k;
    }
  }

  private void charge(int bytes) {
    if (holder != null) {
      holder.charge(bytes);
    }
  }

  /** The whole message from its blocks; the codec holds nothing afterwards. */
  private ByteBuf take(ChannelHandlerContext ctx) {
    ByteBuf whole;
    if (blocks == null) {
      whole = block != null ? block : ctx.alloc().buffer(0);
    } else {
      if (block != null) {
        blocks.addComponent(true, block);
      }
      whole = blocks;
    }
    block = null;
    blocks = null;
    return whole;
  }

  /**
   * Passes a whole message on; false when the connection started closing meanwhile (then the
   * rest of the read is dropped).
   */
  private boolean deliver(ChannelHandlerContext ctx, ByteBuf message) {
    delivered = true;
    headerBytes = 0;
    length = 0;
    messageSize = 0;
    timing = false;
    if (holder != null) {
      holder.refundAll(); // the buffers now belong to the codec above, which frees them at once
    }
    ctx.fireChannelRead(message);
    if (!accepting.getAsBoolean()) {
      stop();
      return false;
    }
    return true;
  }

  private boolean inProgress() {
    return headerBytes > 0 || block != null || blocks != null;
  }

  private void armTimer(ChannelHandlerContext ctx) {
    long timeout = limits.messageTimeoutNanos();
    if (timeout > 0 && timer == null) {
      timer = ctx.executor().schedule(() -> checkTime(ctx), timeout, TimeUnit.NANOSECONDS);
    }
  }

  private void checkTime(ChannelHandlerContext ctx) {
    timer = null;
    if (refused || !timing) {
      return;
    }
    long timeout = limits.messageTimeoutNanos();
    long left = messageStart + timeout - ctx.executor().ticker().nanoTime();
    if (left > 0) {
      timer = ctx.executor().schedule(() -> checkTime(ctx), left, TimeUnit.NANOSECONDS);
      return;
    }
    failLater(
        ctx,
        new PbException(
            Code.LIMIT_EXCEEDED,
            "a message did not arrive whole within " + TimeUnit.NANOSECONDS.toMillis(timeout)
                + " ms of its first bytes (PbServer.Builder.messageTimeout)"));
  }

  /** Refuses the connection outside a read (a timer, the budget); on the event loop. */
  private void failLater(ChannelHandlerContext ctx, PbException cause) {
    if (refused) {
      return;
    }
    stop();
    ctx.fireExceptionCaught(cause);
  }

  /** Drops what is held and everything that arrives from now on. */
  private void stop() {
    refused = true;
    discard();
  }

  private void discard() {
    if (block != null) {
      block.release();
      block = null;
    }
    if (blocks != null) {
      blocks.release();
      blocks = null;
    }
    if (holder != null) {
      holder.refundAll();
    }
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    timing = false;
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    stop();
    ctx.fireChannelInactive();
  }

  // ---- outgoing ----

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof ByteBuf) || msg instanceof Framed) {
      if (msg instanceof Framed && !promise.isVoid()) {
        promise.addListener(countWritten); // a whole frame already
      }
      ctx.write(msg, promise);
      return;
    }
    ByteBuf body = (ByteBuf) msg;
    int chunk = maxFrame - 1;
    if (body.readableBytes() <= chunk) {
      if (!promise.isVoid()) {
        promise.addListener(countWritten);
      }
      ctx.write(ctx.alloc().compositeBuffer(2).addComponents(true, flagsByte(ctx, 0), body), promise);
      return;
    }
    PromiseCombiner combiner = new PromiseCombiner(ctx.executor());
    while (body.isReadable()) {
      int n = Math.min(chunk, body.readableBytes());
      boolean last = n == body.readableBytes();
      ByteBuf part = body.readRetainedSlice(n);
      ByteBuf frame =
          ctx.alloc()
              .compositeBuffer(2)
              .addComponents(true, flagsByte(ctx, last ? 0 : Wire.FLAG_MORE), part);
      combiner.add(ctx.write(frame).addListener(countWritten));
    }
    body.release();
    combiner.finish(promise);
  }

  private static ByteBuf flagsByte(ChannelHandlerContext ctx, int flags) {
    return ctx.alloc().buffer(1).writeByte(flags);
  }
}
