package io.pbj.bench.fanout;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
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
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The floor: a plain Netty broadcast. Each tick is written once into a buffer (a 4-byte length,
 * the 8-byte sequence number, then the payload padded to the size of PBJ's frame for the same
 * tick) and handed to a {@link ChannelGroup}, which writes a shared duplicate of it to every
 * client channel. Clients split frames and read the sequence number on the event loop: no
 * serialization and no executor hop.
 *
 * <p>Same topology as {@link PbjFanout}: one event-loop thread per core for the server's
 * connections, one per client (as each {@code PbClient} has its own) or, when the benchmark says
 * so, a group the clients share (as PBJ's then do), and the server flushes
 * through the same flush-consolidation handler PBJ uses. The transport is the one PBJ picks:
 * epoll when available and {@code io.pbj.noEpoll} is not set, NIO otherwise.
 *
 * <p>Thread-safety: see {@link FanoutStack}.
 */
final class NettyFanout implements FanoutStack {
  private static final int LENGTH_BYTES = 4;
  private static final int MAX_FRAME_BYTES = 1 << 20;
  private static final long CONNECT_TIMEOUT_SECONDS = 30;

  static final boolean EPOLL = !Boolean.getBoolean("io.pbj.noEpoll") && Epoll.isAvailable();

  private final int frameBytes;
  private final List<Receiver> receivers = new ArrayList<>();
  private final List<Channel> clientChannels = new ArrayList<>();
  private EventLoopGroup bossGroup;
  private EventLoopGroup serverGroup;
  private EventLoopGroup clientGroup;
  private ChannelGroup broadcast;
  private Channel serverChannel;

  private final int clientThreads;

  /** @param frameBytes bytes per tick on the wire, length prefix included (at least 12) */
  NettyFanout(int frameBytes) {
    this(frameBytes, 0);
  }

  /**
   * @param frameBytes bytes per tick on the wire, length prefix included (at least 12)
   * @param clientThreads event-loop threads all clients share; 0 for one each
   */
  NettyFanout(int frameBytes, int clientThreads) {
    if (frameBytes < LENGTH_BYTES + Long.BYTES) {
      throw new IllegalArgumentException("frameBytes must be at least 12, got " + frameBytes);
    }
    this.frameBytes = frameBytes;
    this.clientThreads = clientThreads;
  }

  @Override
  public String name() {
    return "raw Netty";
  }

  @Override
  public void start(int observers, Window window) throws Exception {
    IoHandlerFactory io = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    Class<? extends ServerChannel> serverChannelType =
        EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    Class<? extends SocketChannel> channelType =
        EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    bossGroup = new MultiThreadIoEventLoopGroup(1, io);
    serverGroup =
        new MultiThreadIoEventLoopGroup(Math.max(1, Runtime.getRuntime().availableProcessors()), io);
    clientGroup = new MultiThreadIoEventLoopGroup(clientThreads > 0 ? clientThreads : observers, io);
    broadcast = new DefaultChannelGroup("fanout", GlobalEventExecutor.INSTANCE);
    serverChannel =
        new ServerBootstrap()
            .group(bossGroup, serverGroup)
            .channel(serverChannelType)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast("flush", new FlushConsolidationHandler(256, true));
                    broadcast.add(ch);
                  }
                })
            .bind(InetAddress.getLoopbackAddress(), 0)
            .sync()
            .channel();
    int port = ((InetSocketAddress) serverChannel.localAddress()).getPort();
    for (int i = 0; i < observers; i++) {
      Receiver receiver = new Receiver(window, 0);
      receivers.add(receiver);
      clientChannels.add(
          new Bootstrap()
              .group(clientGroup)
              .channel(channelType)
              .option(ChannelOption.TCP_NODELAY, true)
              .handler(
                  new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                      ch.pipeline()
                          .addLast(
                              "framing",
                              new LengthFieldBasedFrameDecoder(
                                  MAX_FRAME_BYTES, 0, LENGTH_BYTES, 0, LENGTH_BYTES))
                          .addLast("ticks", new TickHandler(receiver));
                    }
                  })
              .connect(InetAddress.getLoopbackAddress(), port)
              .sync()
              .channel());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CONNECT_TIMEOUT_SECONDS);
    while (broadcast.size() < observers) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            "only " + broadcast.size() + " of " + observers + " clients reached the server");
      }
      Thread.sleep(1);
    }
  }

  @Override
  public void push(long seq, byte[] payload) {
    ByteBuf frame = serverChannel.alloc().buffer(frameBytes);
    frame.writeInt(frameBytes - LENGTH_BYTES).writeLong(seq);
    int body = frameBytes - LENGTH_BYTES - Long.BYTES;
    int fromPayload = Math.min(body, payload.length);
    frame.writeBytes(payload, 0, fromPayload).writeZero(body - fromPayload);
    broadcast.writeAndFlush(frame); // writes a retained duplicate per channel, releases frame
  }

  @Override
  public List<Receiver> receivers() {
    return receivers;
  }

  @Override
  public void close() throws InterruptedException {
    for (Channel ch : clientChannels) {
      ch.close().sync();
    }
    if (broadcast != null) {
      broadcast.close().sync();
    }
    if (serverChannel != null) {
      serverChannel.close().sync();
    }
    for (EventLoopGroup g : new EventLoopGroup[] {clientGroup, serverGroup, bossGroup}) {
      if (g != null) {
        g.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
      }
    }
  }

  /** Reads each frame's sequence number and tells the observer's receiver. */
  private static final class TickHandler extends SimpleChannelInboundHandler<ByteBuf> {
    private final Receiver receiver;

    TickHandler(Receiver receiver) {
      this.receiver = receiver;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
      receiver.deliver(frame.readLong());
    }
  }
}
