package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pbj.PbException;
import java.util.Locale;

/**
 * Sends the preamble as soon as the channel is active and checks the peer's byte by byte as it
 * arrives: the first byte that differs closes the connection, before anything else reads the
 * stream. The version field is the sender's highest protocol version; any from {@link
 * Wire#MIN_PREAMBLE_VERSION} up passes (the HELLO settles the version, see {@link
 * HandshakeHandler}). Removes itself once the preamble has matched.
 *
 * <p>Thread-safety: per channel, used on its event loop only.
 */
final class PreambleHandler extends ChannelInboundHandlerAdapter {
  private final FailureSink failures;
  private final byte[] seen = new byte[Wire.PREAMBLE_LENGTH];
  private int count;

  /** Where a refused preamble is reported (the connection, to fail its futures). */
  interface FailureSink {
    void fail(PbException cause);
  }

  PreambleHandler(FailureSink failures) {
    this.failures = failures;
  }

  static ByteBuf preamble() {
    ByteBuf buf = Unpooled.buffer(Wire.PREAMBLE_LENGTH);
    buf.writeBytes(Wire.MAGIC);
    buf.writeShort(Wire.PROTOCOL_VERSION);
    return buf;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    ctx.writeAndFlush(preamble());
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf in = (ByteBuf) msg;
    try {
      while (count < Wire.PREAMBLE_LENGTH && in.isReadable()) {
        byte b = in.readByte();
        if (count < Wire.MAGIC.length && b != Wire.MAGIC[count]) {
          seen[count++] = b;
          refuse(ctx, "the peer does not speak PBJ: " + describe(count));
          return;
        }
        seen[count++] = b;
      }
      if (count < Wire.PREAMBLE_LENGTH) {
        return;
      }
      // the peer's highest version: any from the first on has a HELLO that settles the version
      int version = ((seen[4] & 0xff) << 8) | (seen[5] & 0xff);
      if (version < Wire.MIN_PREAMBLE_VERSION) {
        refuse(
            ctx,
            "the peer speaks PBJ protocol version " + version + "; this side speaks versions "
                + Wire.MIN_PROTOCOL_VERSION + " to " + Wire.PROTOCOL_VERSION);
        return;
      }
      ctx.pipeline().remove(this);
      if (in.isReadable()) {
        ctx.fireChannelRead(in.retain());
      }
    } finally {
      in.release();
    }
  }

  private void refuse(ChannelHandlerContext ctx, String why) {
    failures.fail(new PbException(PbException.Code.PROTOCOL_ERROR, why));
    ctx.close();
  }

  /** Names what the bytes look like, for the log and the error. */
  private String describe(int n) {
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < n; i++) {
      hex.append(String.format(Locale.ROOT, "%02x", seen[i] & 0xff));
    }
    String guess;
    int first = seen[0] & 0xff;
    if (first == 0x16) {
      guess = " (a TLS handshake: is TLS on at one end only?)";
    } else if (first >= 'A' && first <= 'Z') {
      guess = " (text, perhaps HTTP)";
    } else {
      guess = "";
    }
    return "first bytes 0x" + hex + guess + " are not the PBJ preamble 0x50424a1a";
  }
}
