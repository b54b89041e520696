package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.concurrent.PromiseCombiner;
import io.pbj.PbException;

/**
 * Splits an outgoing message into frames of at most the frame limit, each led by a flags byte
 * ({@link Wire#FLAG_MORE} on all but the last), and joins incoming frames back into messages,
 * refusing a message whose frames add up to more than the message limit as soon as they do.
 *
 * <p>Once it has refused anything, it drops every later frame unread: the connection is closing,
 * and nothing the peer sent after a refused message may be decoded or run (frames already
 * buffered behind it in the same read would otherwise still arrive here).
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class ChunkCodec extends ChannelDuplexHandler {
  private final int maxFrame;
  private final int maxMessage;
  private CompositeByteBuf assembling;
  private boolean refused;

  ChunkCodec(int maxFrame, int maxMessage) {
    this.maxFrame = maxFrame;
    this.maxMessage = maxMessage;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf frame = (ByteBuf) msg;
    if (refused) {
      frame.release();
      return;
    }
    try {
      read(ctx, frame);
    } catch (RuntimeException e) {
      refused = true;
      discard();
      throw e;
    }
  }

  private void read(ChannelHandlerContext ctx, ByteBuf frame) {
    if (!frame.isReadable()) {
      frame.release();
      throw new PbException(PbException.Code.PROTOCOL_ERROR, "empty frame");
    }
    int flags = frame.readUnsignedByte();
    boolean more = (flags & Wire.FLAG_MORE) != 0;
    if ((flags & ~Wire.FLAG_MORE) != 0) {
      frame.release();
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR, "unknown frame flags 0x" + Integer.toHexString(flags));
    }
    if (more && frame.readableBytes() < Wire.MIN_FRAME - 1) {
      // senders fill every frame but the last; tiny ones would only cost us memory
      int n = frame.readableBytes();
      frame.release();
      discard();
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR,
          "a frame with more to follow carries only " + n + " bytes; at least "
              + (Wire.MIN_FRAME - 1) + " are required");
    }
    if (assembling == null && !more) {
      ctx.fireChannelRead(frame);
      return;
    }
    if (assembling == null) {
      assembling = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
    }
    long total = (long) assembling.readableBytes() + frame.readableBytes();
    if (total > maxMessage) {
      frame.release();
      discard();
      throw new PbException(
          PbException.Code.LIMIT_EXCEEDED,
          "incoming message is larger than the message limit of " + maxMessage + " bytes");
    }
    assembling.addComponent(true, frame);
    if (!more) {
      ByteBuf whole = assembling;
      assembling = null;
      ctx.fireChannelRead(whole);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof ByteBuf)) {
      ctx.write(msg, promise);
      return;
    }
    ByteBuf body = (ByteBuf) msg;
    int chunk = maxFrame - 1;
    if (body.readableBytes() <= chunk) {
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
      combiner.add(ctx.write(frame));
    }
    body.release();
    combiner.finish(promise);
  }

  private static ByteBuf flagsByte(ChannelHandlerContext ctx, int flags) {
    return ctx.alloc().buffer(1).writeByte(flags);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    discard();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    discard();
    ctx.fireChannelInactive();
  }

  private void discard() {
    if (assembling != null) {
      assembling.release();
      assembling = null;
    }
  }
}
