package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * Counts the bytes that cross the wire, for {@link io.pbj.PbConnection#stats()}.
 *
 * <p>Thread-safety: per channel; the counters it updates are thread-safe.
 */
final class TrafficCounter extends ChannelDuplexHandler {
  private final Connection connection;

  TrafficCounter(Connection connection) {
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      connection.counters().bytesReceived.add(buf.readableBytes());
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof ByteBuf buf) {
      connection.counters().bytesSent.add(buf.readableBytes());
    }
    ctx.write(msg, promise);
  }
}
