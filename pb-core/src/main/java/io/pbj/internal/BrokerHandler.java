package io.pbj.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.io.IOException;

/**
 * The last handler: hands messages to the {@link Connection} and turns pipeline failures into a
 * closed connection with a cause that names the problem.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class BrokerHandler extends ChannelInboundHandlerAdapter {
  private final Connection connection;

  BrokerHandler(Connection connection) {
    this.connection = connection;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MessageCodec.Inbound inbound = (MessageCodec.Inbound) msg;
    connection.received(inbound.message(), inbound.inits());
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable()) {
      connection.writable();
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closed();
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    connection.fail(toPbException(cause));
    ctx.close();
  }

  static PbException toPbException(Throwable cause) {
    Throwable t = cause;
    while (t instanceof DecoderException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof PbException pb) {
      return pb;
    }
    if (t instanceof TooLongFrameException) {
      return new PbException(Code.LIMIT_EXCEEDED, "frame refused: " + t.getMessage(), t);
    }
    if (t instanceof CorruptedFrameException) {
      return new PbException(Code.PROTOCOL_ERROR, "corrupt frame: " + t.getMessage(), t);
    }
    if (t instanceof IOException) {
      return new PbException(Code.CONNECTION_LOST, String.valueOf(t.getMessage()), t);
    }
    if (t instanceof javax.net.ssl.SSLException) {
      return new PbException(Code.PROTOCOL_ERROR, "TLS: " + t.getMessage(), t);
    }
    return new PbException(Code.PROTOCOL_ERROR, t.toString(), t);
  }
}
