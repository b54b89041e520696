package io.pbj.bench.rpc;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The floor: a hand-written echo over plain Netty with no serialization and no executor hop.
 *
 * <p>A frame is a 4-byte length, then an 8-byte request id and the payload. The server writes
 * each frame back as it is; the client completes the future registered under the id, on the
 * event loop. One event-loop thread on each side. Both pipelines consolidate flushes, as PBJ's
 * does, so the pipelined run is a floor too.
 *
 * <p>The transport is the one PBJ picks: native epoll when it is available and the system
 * property {@code io.pbj.noEpoll} is not {@code true}, NIO otherwise, so the floor and PBJ always
 * run on the same transport.
 */
final class NettyStack implements Stack {
  private static final int MAX_FRAME_BYTES = 16 << 20;
  private static final int LENGTH_BYTES = 4;
  private static final int ID_BYTES = Long.BYTES;
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final int FLUSHES_PER_SYSCALL = 256;

  /** Same rule as PBJ's own transport choice. */
  static final boolean EPOLL = !Boolean.getBoolean("io.pbj.noEpoll") && Epoll.isAvailable();

  private final ConcurrentHashMap<Long, CompletableFuture<byte[]>> pending =
      new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong();
  private EventLoopGroup serverGroup;
  private EventLoopGroup clientGroup;
  private Channel serverChannel;
  private Channel clientChannel;

  @Override
  public void start() throws InterruptedException {
    IoHandlerFactory io = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> serverChannelType =
        EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    Class<? extends SocketChannel> channelType =
        EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    serverGroup = new MultiThreadIoEventLoopGroup(1, io);
    clientGroup = new MultiThreadIoEventLoopGroup(1, io);
    LengthFieldPrepender prepender = new LengthFieldPrepender(LENGTH_BYTES);
    EchoHandler echo = new EchoHandler();
    serverChannel =
        new ServerBootstrap()
            .group(serverGroup)
            .channel(serverChannelType)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("framing", newFrameDecoder())
                        .addLast("prepender", prepender)
                        .addLast("flush", newFlushConsolidation())
                        .addLast("echo", echo);
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
    int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
    clientChannel =
        new Bootstrap()
            .group(clientGroup)
            .channel(channelType)
            .option(ChannelOption.TCP_NODELAY, true)
            .handler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline()
                        .addLast("framing", newFrameDecoder())
                        .addLast("prepender", prepender)
                        .addLast("flush", newFlushConsolidation())
                        .addLast("answers", new AnswerHandler());
                  }
                })
            .connect(InetAddress.getLoopbackAddress(), port)
            .sync()
            .channel();
  }

  @Override
  public byte[] call(byte[] payload) throws Exception {
    return callAsync(payload).toCompletableFuture().get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<byte[]> callAsync(byte[] payload) {
    long id = nextId.incrementAndGet();
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    pending.put(id, answer);
    ByteBuf frame = clientChannel.alloc().buffer(ID_BYTES + payload.length);
    frame.writeLong(id).writeBytes(payload);
    clientChannel
        .writeAndFlush(frame)
        .addListener(
            (ChannelFutureListener)
                written -> {
                  if (!written.isSuccess()) {
                    failPending(id, written.cause());
                  }
                });
    return answer;
  }

  @Override
  public void close() throws InterruptedException {
    if (clientChannel != null) {
      clientChannel.close().sync();
    }
    if (serverChannel != null) {
      serverChannel.close().sync();
    }
    if (clientGroup != null) {
      clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
    if (serverGroup != null) {
      serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
    IOException closed = new IOException("netty echo client closed");
    pending.keySet().forEach(id -> failPending(id, closed));
  }

  private void failPending(long id, Throwable cause) {
    CompletableFuture<byte[]> answer = pending.remove(id);
    if (answer != null) {
      answer.completeExceptionally(cause);
    }
  }

  /** As in PBJ's pipeline: a burst of flushes becomes one system call. */
  private static FlushConsolidationHandler newFlushConsolidation() {
    return new FlushConsolidationHandler(FLUSHES_PER_SYSCALL, true);
  }

  private static LengthFieldBasedFrameDecoder newFrameDecoder() {
    return new LengthFieldBasedFrameDecoder(
        MAX_FRAME_BYTES, 0, LENGTH_BYTES, 0, LENGTH_BYTES);
  }

  /** Writes every frame back unchanged, flushing once per read batch. */
  @Sharable
  private static final class EchoHandler extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object frame) {
      ctx.write(frame, ctx.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }
  }

  /** Completes the pending call named by each answer frame's id. */
  private final class AnswerHandler extends SimpleChannelInboundHandler<ByteBuf> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
      long id = frame.readLong();
      byte[] echoed = new byte[frame.readableBytes()];
      frame.readBytes(echoed);
      CompletableFuture<byte[]> answer = pending.remove(id);
      if (answer != null) {
        answer.complete(echoed);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      IOException lost = new IOException("netty echo connection lost");
      pending.keySet().forEach(id -> failPending(id, lost));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      pending.keySet().forEach(id -> failPending(id, cause));
      ctx.close();
    }
  }
}
