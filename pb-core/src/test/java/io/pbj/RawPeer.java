package io.pbj;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import java.io.ByteArrayOutputStream;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A peer that speaks raw bytes to a PBJ server over either transport, for hostile-input tests:
 * no PBJ pipeline, just writes and a record of what came back.
 */
final class RawPeer implements AutoCloseable {
  private final EventLoopGroup group;
  private final Channel channel;
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  RawPeer(SocketAddress address) {
    boolean local = address instanceof LocalAddress;
    group =
        new MultiThreadIoEventLoopGroup(
            1, local ? LocalIoHandler.newFactory() : NioIoHandler.newFactory());
    channel =
        new Bootstrap()
            .group(group)
            .channel(local ? LocalChannel.class : NioSocketChannel.class)
            .handler(
                new ChannelInboundHandlerAdapter() {
                  @Override
                  public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    ByteBuf buf = (ByteBuf) msg;
                    byte[] bytes = new byte[buf.readableBytes()];
                    buf.readBytes(bytes);
                    synchronized (received) {
                      received.writeBytes(bytes);
                    }
                    buf.release();
                  }

                  @Override
                  public void channelInactive(ChannelHandlerContext ctx) {
                    closed.complete(null);
                  }
                })
            .connect(address)
            .syncUninterruptibly()
            .channel();
  }

  /** The PBJ preamble: magic and protocol version 1. */
  static byte[] preamble() {
    return new byte[] {'P', 'B', 'J', 0x1A, 0, 1};
  }

  /** One frame: length, flags ({@code more}: more frames of the message follow), the chunk. */
  static byte[] frame(byte[] chunk, boolean more) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int length = chunk.length + 1;
    out.write(length >>> 24);
    out.write(length >>> 16);
    out.write(length >>> 8);
    out.write(length);
    out.write(more ? 1 : 0);
    out.writeBytes(chunk);
    return out.toByteArray();
  }

  /** A HELLO frame listing no types: the server accepts it (ids one side lacks are allowed). */
  static byte[] hello() {
    return frame(new byte[] {0, 0}, false);
  }

  /** The body of a one-way CALL of {@code method} on the root with one String argument. */
  static byte[] oneWayCall(String method, String argument) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(1); // CALL
    out.write(0); // request id 0: one-way
    out.write(0); // target: the root
    out.write(1); // one-way
    writeString(out, method);
    out.write(1); // one argument
    out.write(1 + 2); // class id of String (1) plus 2
    writeString(out, argument);
    return out.toByteArray();
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (bytes.length + 1 > 127) {
      throw new IllegalArgumentException("short strings only");
    }
    out.write(bytes.length + 1);
    out.writeBytes(bytes);
  }

  /** The byte arrays one after the other. */
  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  RawPeer send(byte[] bytes) {
    channel.writeAndFlush(Unpooled.wrappedBuffer(bytes));
    return this;
  }

  /** True if the server closed the connection within {@code timeout}. */
  boolean closedWithin(Duration timeout) throws Exception {
    try {
      closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  byte[] received() {
    synchronized (received) {
      return received.toByteArray();
    }
  }

  @Override
  public void close() {
    channel.close().syncUninterruptibly();
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
