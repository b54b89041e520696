package io.pbj.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pbj.PbException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Sends this side's registry (id and class name of every registered type) as the first message
 * and checks the peer's: an id both sides know must name the same class. On success it removes
 * itself and tells the connection; on a mismatch it fails the connection with a message naming
 * the id and both class names. A GOODBYE in place of the peer's HELLO (a server refusing the
 * connection) fails it with {@link PbException.Code#CONNECT_FAILED} and the reason.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class HandshakeHandler extends ChannelInboundHandlerAdapter {
  private final Map<Integer, String> registry;
  private final Connection connection;

  HandshakeHandler(Map<Integer, String> registry, Connection connection) {
    this.registry = registry;
    this.connection = connection;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(
        connection.encode(
            new Message.Hello(List.copyOf(registry.keySet()), List.copyOf(registry.values()))));
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Message message = ((MessageCodec.Inbound) msg).message();
    if (message instanceof Message.Goodbye goodbye) {
      // a server over its connection cap (or past a deadline) says why instead of HELLO
      throw new PbException(
          PbException.Code.CONNECT_FAILED,
          ctx.channel().remoteAddress() + " refused the connection: " + goodbye.reason());
    }
    if (!(message instanceof Message.Hello hello)) {
      throw new PbException(
          PbException.Code.PROTOCOL_ERROR,
          "expected the registry handshake, got " + message.getClass().getSimpleName());
    }
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < hello.ids().size(); i++) {
      int id = hello.ids().get(i);
      String theirs = hello.classNames().get(i);
      String ours = registry.get(id);
      if (ours != null && !ours.equals(theirs)) {
        mismatches.add("id " + id + " is " + ours + " here but " + theirs + " on the peer");
      }
    }
    if (!mismatches.isEmpty()) {
      throw new PbException(
          PbException.Code.REGISTRY_MISMATCH,
          "class registries disagree: " + String.join("; ", mismatches)
              + " (register the same classes in the same order on both sides)");
    }
    ctx.pipeline().remove(this);
    connection.handshakeDone();
  }
}
