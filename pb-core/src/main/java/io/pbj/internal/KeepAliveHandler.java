package io.pbj.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Keep-alive: when nothing has been written for the interval, sends a ping (the peer answers with
 * a pong, so a healthy idle connection always has traffic both ways); when nothing at all has been
 * read for the timeout, closes the connection with {@link Code#CONNECTION_LOST}.
 *
 * <p>It sits after the codec, but counts every read of bytes, not only whole messages: a large
 * message arriving slowly in many frames is traffic, so it never trips the timeout while it flows.
 * Pings are sent only once the registry handshake is done; before that the timeout alone applies,
 * which also drops a peer that stalls in the preamble.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class KeepAliveHandler extends IdleStateHandler {
  private final Connection connection;
  private final long timeoutMillis;

  KeepAliveHandler(Connection connection, Duration interval, Duration timeout) {
    super(true, timeout.toNanos(), interval.toNanos(), 0, TimeUnit.NANOSECONDS);
    this.connection = connection;
    this.timeoutMillis = timeout.toMillis();
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) throws Exception {
    // A socket read happened, whether or not it completed a message.
    resetReadTimeout();
    super.channelReadComplete(ctx);
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
    if (event.state() == IdleState.WRITER_IDLE) {
      if (connection.ready().isDone() && connection.isOpen()) {
        connection.ping();
      }
    } else if (event.state() == IdleState.READER_IDLE) {
      connection.fail(
          new PbException(
              Code.CONNECTION_LOST,
              "no traffic from " + ctx.channel().remoteAddress() + " for " + timeoutMillis
                  + " ms (keep-alive timeout)"));
      ctx.close();
    }
  }
}
