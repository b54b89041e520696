package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.CorruptedFrameException;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The last handler: hands messages to the {@link Connection} and turns pipeline failures into a
 * closed connection with a cause that names the problem.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class BrokerHandler extends ChannelInboundHandlerAdapter {
  private static final String PEER_NOT_READING = "the peer does not read";

  private final Connection connection;
  private final Duration slowReaderTimeout;
  /** Counts the periods the channel was not writable, to match a scheduled check to its period. */
  private long stalls;

  /**
   * @param slowReaderTimeout when not null, reading stops while the channel is not writable (the
   *     peer does not read what this side writes, so its calls would only pile up answers), and
   *     the connection closes if that lasts this long; null: reading never stops for it
   */
  BrokerHandler(Connection connection, Duration slowReaderTimeout) {
    this.connection = connection;
    this.slowReaderTimeout = slowReaderTimeout;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    MessageCodec.Inbound inbound = (MessageCodec.Inbound) msg;
    connection.received(inbound.message(), inbound.inits());
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Channel channel = ctx.channel();
    if (channel.isWritable()) {
      stalls++;
      if (slowReaderTimeout != null) {
        ReadPause.resume(channel, PEER_NOT_READING);
      }
      connection.writable();
    } else if (slowReaderTimeout != null) {
      ReadPause.pause(channel, PEER_NOT_READING);
      long stall = ++stalls;
      ctx.executor()
          .schedule(
              () -> {
                if (stalls == stall && !channel.isWritable() && channel.isActive()) {
                  connection.slowConsumer(
                      "it left " + (channel.bytesBeforeWritable() + channel.config()
                          .getWriteBufferLowWaterMark()) + " bytes unread for longer than"
                          + " slowReaderTimeout=" + slowReaderTimeout.toMillis() + " ms");
                }
              },
              slowReaderTimeout.toNanos(),
              TimeUnit.NANOSECONDS);
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    connection.closed();
    ctx.fireChannelInactive();
  }

  /**
   * A failure in the pipeline ends the connection. When it is the peer's fault (a protocol error,
   * a limit) and the peer speaks PBJ (its preamble was accepted), it is told why in a GOODBYE
   * first, so it can say so; otherwise the channel just closes.
   */
  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    PbException failure = toPbException(cause);
    connection.fail(failure);
    boolean peerSpeaksPbj = ctx.pipeline().get(PreambleHandler.class) == null;
    if (peerSpeaksPbj && tellsThePeer(failure.code()) && connection.isOpen()) {
      connection.goodbye(failure.detail()); // what it still sends is dropped unread
    } else {
      ctx.close();
    }
  }

  private static boolean tellsThePeer(Code code) {
    return code == Code.PROTOCOL_ERROR
        || code == Code.REGISTRY_MISMATCH
        || code == Code.LIMIT_EXCEEDED;
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
