package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.io.Output;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;

/**
 * The whole pipeline (after TLS, if on) of a connection the server refuses: sends the preamble
 * and a GOODBYE with the reason, in place of the HELLO, so that the client reports the reason
 * rather than a reset; reads and drops whatever the peer sends (closing a socket with unread
 * bytes would reset it, and the peer could lose the goodbye); half-closes, and closes when the
 * peer does or after {@link #GRACE_MILLIS}, whichever comes first. Nothing else is built for the
 * connection.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class Refusal extends ChannelInboundHandlerAdapter {
  /** How long a refused peer may keep its end open after the goodbye. */
  static final long GRACE_MILLIS = 1000;

  private final String reason;
  private final boolean halfClose;

  /**
   * @param halfClose whether to shut the output down after the goodbye (not under TLS, whose
   *     close is its own)
   */
  Refusal(String reason, boolean halfClose) {
    this.reason = reason;
    this.halfClose = halfClose;
  }

  /** The preamble, then one frame holding a GOODBYE with {@code reason}. */
  static ByteBuf bytes(ChannelHandlerContext ctx, String reason) {
    Output body = new Output(64, -1);
    body.writeByte(Wire.GOODBYE);
    KryoSetup.writeString(body, reason);
    ByteBuf out = ctx.alloc().buffer(Wire.PREAMBLE_LENGTH + Wire.LENGTH_FIELD + 1 + body.position());
    out.writeBytes(Wire.MAGIC);
    out.writeShort(Wire.PROTOCOL_VERSION);
    out.writeInt(body.position() + 1);
    out.writeByte(0);
    out.writeBytes(body.getBuffer(), 0, body.position());
    return out;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.executor().schedule(() -> ctx.close(), GRACE_MILLIS, TimeUnit.MILLISECONDS);
    ctx.writeAndFlush(bytes(ctx, reason))
        .addListener(
            (ChannelFutureListener)
                f -> {
                  if (!f.isSuccess()) {
                    ctx.close();
                  } else if (halfClose && ctx.channel() instanceof DuplexChannel duplex) {
                    duplex.shutdownOutput();
                  }
                });
  }

  /**
   * Bytes read and dropped before the refused peer is no longer read: an honest one sends its
   * preamble and HELLO, perhaps a first call; one that streams instead must not keep the event
   * loop reading for the whole grace.
   */
  static final int DROP_MAX = 64 << 10;

  private long dropped;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      dropped += buf.readableBytes();
    }
    ReferenceCountUtil.release(msg);
    if (dropped > DROP_MAX) {
      ctx.channel().config().setAutoRead(false); // the grace's timer closes the channel
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
