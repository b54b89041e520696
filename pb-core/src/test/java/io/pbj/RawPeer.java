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
