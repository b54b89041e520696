package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.List;

/**
 * Turns whole incoming message bodies into {@link Inbound} messages, with the channel's decoding
 * Kryo, and releases the buffers: nothing after this handler is reference counted. Outgoing
 * messages are encoded before they reach the channel, by {@link Connection#encode}, on the
 * sending thread.
 *
 * <p>A value that fails to decode becomes a {@link Message.Undecodable} for the broker to answer;
 * a broken envelope fails the connection.
 *
 * <p>Thread-safety: per channel, used on its event loop only (it owns the decoding Kryo).
 */
final class MessageCodec extends ChannelInboundHandlerAdapter {
  /** A decoded message and the cache initialisations its values need before delivery. */
  record Inbound(Message message, List<Runnable> inits) {}

  private final Kryo kryo;
  private final Connection connection;
  private final ReferenceReader references;

  MessageCodec(Kryo kryo, Connection connection, ReferenceReader references) {
    this.kryo = kryo;
    this.connection = connection;
    this.references = references;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    byte[] bytes;
    try {
      bytes = ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
    connection.counters().messagesReceived.increment();
    Message message;
    try {
      message = WireCodec.decode(bytes, kryo, connection.config().maxDepth(), connection.config().maxMessage());
    } catch (RuntimeException e) {
      references.takeInits();
      throw e;
    } finally {
      kryo.reset();
    }
    ctx.fireChannelRead(new Inbound(message, references.takeInits()));
  }
}
