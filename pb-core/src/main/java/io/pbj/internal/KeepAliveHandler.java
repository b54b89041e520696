package io.pbj.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Keep-alive: when nothing has been written for the interval, sends a ping (the peer answers with
 * a pong, so a healthy idle connection always has traffic both ways); when no whole message has
 * been read for the timeout, closes the connection with {@link Code#CONNECTION_LOST}.
 *
 * <p>It counts messages, not bytes: a peer that trickles a byte at a time never completes one, so
 * it cannot keep a connection alive that way. Two things besides whole messages count as life:
 * each completed frame of a message that continues in a later frame ({@link
 * ChunkCodec#FRAME_PROGRESS}; the time a whole chunked message may take is bounded by the
 * server's message timeout), and the peer draining a backlog of our output (output is waiting
 * in the channel and frames were written since the last check): a client downloading a large
 * answer over a slow link sends nothing while it does, and the pings queued behind that answer
 * cannot be answered before it has arrived. Writes into an empty socket buffer prove nothing
 * (the kernel takes them from a dead peer too), hence the backlog condition; once the backlog is
 * gone, what the kernel still holds must reach the peer, and its pong come back, within the
 * timeout.
 *
 * <p>Pings are sent only once the registry handshake is done; before that the timeout alone
 * applies (and, on a server, the handshake deadline).
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class KeepAliveHandler extends IdleStateHandler {
  private final Connection connection;
  private final long timeoutMillis;
  private final LongSupplier framesWritten;
  private long framesWrittenSeen;

  /**
   * @param framesWritten frames this side has handed to the socket so far
   */
  KeepAliveHandler(
      Connection connection, Duration interval, Duration timeout, LongSupplier framesWritten) {
    super(true, timeout.toNanos(), interval.toNanos(), 0, TimeUnit.NANOSECONDS);
    this.connection = connection;
    this.timeoutMillis = timeout.toMillis();
    this.framesWritten = framesWritten;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt == ChunkCodec.FRAME_PROGRESS) {
      resetReadTimeout();
      return;
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
    if (event.state() == IdleState.WRITER_IDLE) {
      if (connection.ready().isDone() && connection.isOpen()) {
        connection.ping();
      }
    } else if (event.state() == IdleState.READER_IDLE) {
      long written = framesWritten.getAsLong();
      boolean drained = written != framesWrittenSeen;
      framesWrittenSeen = written;
      ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
      if (drained && out != null && out.totalPendingWriteBytes() > 0) {
        return; // the peer is taking our output: alive, if busy
      }
      connection.fail(
          new PbException(
              Code.CONNECTION_LOST,
              "no traffic from " + ctx.channel().remoteAddress() + " for " + timeoutMillis
                  + " ms (keep-alive timeout)"));
      ctx.close();
    }
  }
}
