package io.pbj.bench.publish;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
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
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A TCP forwarding proxy on loopback that makes a {@link Link}: every connection accepted on a
 * port from {@link #forward} is forwarded to the target port, and each direction passes through a
 * bottleneck of the link's bandwidth followed by a delay of half its round-trip time.
 *
 * <p>The model, per direction: a byte chunk read at time {@code t} starts its transmission when
 * the bottleneck is free ({@code max(t, busyUntil)}), takes {@code bytes * 8 / bandwidth}, and is
 * written to the other side a one-way delay after its transmission ended. Order is kept. The
 * bottleneck of a direction is shared by all connections through this proxy, as on one link.
 * Chunks are cut to at most {@value #SLICE_BYTES} bytes so that a large read does not arrive as
 * one late burst.
 *
 * <p>Memory stays bounded: a direction stops reading from its source (auto-read off) while more
 * than {@value #QUEUE_BYTES} bytes wait for the bottleneck (a router's queue) or while the
 * destination channel is not writable, and reads again when both have cleared; the bytes in
 * flight are then at most that queue plus bandwidth times delay plus one read. The sender's TCP
 * sees the back-pressure through its socket buffers, as behind a real bottleneck.
 *
 * <p>Limits: a shaper on loopback, not a network. The TCP connections on either side of the
 * proxy run over loopback, so their windows, slow start and acknowledgements do not see the
 * delay; nothing is lost, reordered or duplicated; bandwidth counts payload bytes (no header
 * overhead); connection set-up is not delayed.
 *
 * <p>Buffer ownership: a buffer read from a channel belongs to its direction until it is written
 * to the other channel (Netty releases it once written, or if the write fails); whatever is still
 * queued when either channel closes is released then.
 *
 * <pre>{@code
 * try (LinkProxy proxy = new LinkProxy(Link.parse("100mbit-20ms"))) {
 *   int port = proxy.forward(server.port());
 *   // connect to 127.0.0.1:port
 * }
 * }</pre>
 *
 * <p>Thread-safety: {@link #forward} and {@link #close} may be called from any thread; the
 * forwarding itself runs on the proxy's single event-loop thread, which owns all its state.
 */
final class LinkProxy implements AutoCloseable {
  /** The largest chunk the bottleneck handles as one. */
  static final int SLICE_BYTES = 16 * 1024;
  /** Bytes that may wait for the bottleneck before the source is no longer read. */
  static final int QUEUE_BYTES = 64 * 1024;

  private static final boolean EPOLL =
      !Boolean.getBoolean("io.pbj.noEpoll") && Epoll.isAvailable();
  private static final long CLOSE_TIMEOUT_SECONDS = 10;

  private final Link link;
  private final EventLoopGroup group;
  private final Class<? extends ServerChannel> serverChannelType;
  private final Class<? extends SocketChannel> channelType;
  private final ChannelGroup channels =
      new DefaultChannelGroup("link-proxy", GlobalEventExecutor.INSTANCE);
  /** Bytes read from either side of any connection; written on the event loop. */
  private final AtomicLong bytesRead = new AtomicLong();
  /** Client to server. */
  private final Bottleneck up;
  /** Server to client. */
  private final Bottleneck down;

  /** Starts the proxy's event loop; {@code link} must not be loopback. */
  LinkProxy(Link link) {
    if (link.isLoopback()) {
      throw new IllegalArgumentException("loopback needs no proxy");
    }
    this.link = link;
    IoHandlerFactory io = EPOLL ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    serverChannelType = EPOLL ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    channelType = EPOLL ? EpollSocketChannel.class : NioSocketChannel.class;
    // One thread: both directions of every connection and the shared bottlenecks live on it.
    group = new MultiThreadIoEventLoopGroup(1, io);
    up = new Bottleneck(link);
    down = new Bottleneck(link);
  }

  Link link() {
    return link;
  }

  /** Bytes read so far from clients and servers, in both directions together. */
  long bytesRead() {
    return bytesRead.get();
  }

  /**
   * Listens on a new loopback port (chosen by the system) and forwards every connection to
   * {@code targetPort} on loopback through the link; returns the new port.
   */
  int forward(int targetPort) throws InterruptedException {
    Channel listener = new ServerBootstrap()
        .group(group)
        .channel(serverChannelType)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel inbound) {
            accepted(inbound, targetPort);
          }
        })
        .bind(InetAddress.getLoopbackAddress(), 0)
        .sync()
        .channel();
    channels.add(listener);
    return ((InetSocketAddress) listener.localAddress()).getPort();
  }

  /** Connects to the target on the accepted channel's own event loop and joins the two. */
  private void accepted(SocketChannel inbound, int targetPort) {
    Direction toServer = new Direction(up, inbound.eventLoop(), bytesRead);
    Direction toClient = new Direction(down, inbound.eventLoop(), bytesRead);
    inbound.pipeline().addLast("link", new Forwarder(toServer, toClient));
    ChannelFuture connect = new Bootstrap()
        .group(inbound.eventLoop())
        .channel(channelType)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel outbound) {
            outbound.pipeline().addLast("link", new Forwarder(toClient, toServer));
          }
        })
        .connect(InetAddress.getLoopbackAddress(), targetPort);
    Channel outbound = connect.channel();
    toServer.join(inbound, outbound);
    toClient.join(outbound, inbound);
    channels.add(inbound);
    channels.add(outbound);
    connect.addListener((ChannelFutureListener) f -> {
      if (f.isSuccess()) {
        toServer.updateReading();
        toClient.updateReading();
      } else {
        inbound.close();
      }
    });
  }

  /** Closes every listener and connection, dropping what is still queued, and the event loop. */
  @Override
  public void close() throws InterruptedException {
    channels.close().await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    group.shutdownGracefully(0, CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)
        .await(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * One direction's bottleneck: when it is free again, and what a chunk given to it now arrives
   * at. Used on the proxy's event loop only.
   */
  private static final class Bottleneck {
    private final long bitsPerSecond;
    private final long delayNanos;
    /** How long {@link #QUEUE_BYTES} take to go through. */
    private final long queueNanos;
    private long busyUntil = System.nanoTime();

    Bottleneck(Link link) {
      bitsPerSecond = link.bitsPerSecond();
      delayNanos = link.oneWayNanos();
      queueNanos = transmissionNanos(QUEUE_BYTES);
    }

    /** Queues {@code bytes} for transmission; returns when they reach the other side. */
    long arrival(int bytes, long now) {
      busyUntil = Math.max(now, busyUntil) + transmissionNanos(bytes);
      return busyUntil + delayNanos;
    }

    /** Whether more than {@link #QUEUE_BYTES} wait for the bottleneck. */
    boolean full(long now) {
      return busyUntil - now > queueNanos;
    }

    /** Nanoseconds until at most half of {@link #QUEUE_BYTES} wait. */
    long untilHalfEmpty(long now) {
      return Math.max(0, busyUntil - queueNanos / 2 - now);
    }

    private long transmissionNanos(int bytes) {
      return bytes * 8_000_000_000L / bitsPerSecond;
    }
  }

  /** A chunk on its way, or (data null) the end of the stream. */
  private record Chunk(ByteBuf data, long arrivalNanos) {}

  /**
   * One direction of one connection: reads from the source, queues through the bottleneck and
   * the delay, writes to the destination. Used on the connection's event loop only.
   */
  private static final class Direction {
    private final Bottleneck bottleneck;
    private final EventLoop loop;
    private final AtomicLong bytesRead;
    private final ArrayDeque<Chunk> inFlight = new ArrayDeque<>();
    private Channel source;
    private Channel destination;
    private ScheduledFuture<?> delivery;
    private ScheduledFuture<?> resume;
    /** The destination closed: nothing more is delivered. */
    private boolean destinationClosed;
    /** The source closed: the end of stream is queued behind its last bytes. */
    private boolean sourceClosed;

    Direction(Bottleneck bottleneck, EventLoop loop, AtomicLong bytesRead) {
      this.bottleneck = bottleneck;
      this.loop = loop;
      this.bytesRead = bytesRead;
    }

    void join(Channel source, Channel destination) {
      this.source = source;
      this.destination = destination;
    }

    /** A buffer read from the source: this direction owns it now. */
    void received(ByteBuf data) {
      bytesRead.addAndGet(data.readableBytes());
      if (destinationClosed || sourceClosed) {
        data.release();
        return;
      }
      long now = System.nanoTime();
      while (data.readableBytes() > SLICE_BYTES) {
        ByteBuf slice = data.readRetainedSlice(SLICE_BYTES);
        inFlight.add(new Chunk(slice, bottleneck.arrival(SLICE_BYTES, now)));
      }
      inFlight.add(new Chunk(data, bottleneck.arrival(data.readableBytes(), now)));
      scheduleDelivery();
      updateReading();
    }

    /** The source closed: the destination is closed after the bytes already on their way. */
    void sourceClosed() {
      if (sourceClosed) {
        return;
      }
      sourceClosed = true;
      cancelResume();
      if (destinationClosed) {
        return;
      }
      inFlight.add(new Chunk(null, bottleneck.arrival(0, System.nanoTime())));
      scheduleDelivery();
    }

    /** The destination closed: what is still on its way is dropped. */
    void destinationClosed() {
      if (destinationClosed) {
        return;
      }
      destinationClosed = true;
      cancelResume();
      if (delivery != null) {
        delivery.cancel(false);
        delivery = null;
      }
      Chunk c;
      while ((c = inFlight.poll()) != null) {
        if (c.data() != null) {
          c.data().release();
        }
      }
    }

    /**
     * Reads from the source only while the bottleneck's queue has room and the destination is
     * writable; if only the queue is full, looks again once it is half empty.
     */
    void updateReading() {
      if (sourceClosed || destinationClosed || !source.isActive() || !destination.isActive()) {
        return;
      }
      long now = System.nanoTime();
      boolean writable = destination.isWritable();
      boolean full = bottleneck.full(now);
      source.config().setAutoRead(writable && !full);
      if (writable && full && resume == null) {
        resume = loop.schedule(() -> {
          resume = null;
          updateReading();
        }, bottleneck.untilHalfEmpty(now), TimeUnit.NANOSECONDS);
      }
    }

    private void cancelResume() {
      if (resume != null) {
        resume.cancel(false);
        resume = null;
      }
    }

    /** Schedules delivery of the oldest chunk; later ones arrive later (the order is kept). */
    private void scheduleDelivery() {
      if (delivery != null || inFlight.isEmpty()) {
        return;
      }
      long delay = Math.max(0, inFlight.peek().arrivalNanos() - System.nanoTime());
      delivery = loop.schedule(this::deliver, delay, TimeUnit.NANOSECONDS);
    }

    /** Writes every chunk that has arrived, in order, with one flush. */
    private void deliver() {
      delivery = null;
      long now = System.nanoTime();
      boolean wrote = false;
      while (!inFlight.isEmpty() && inFlight.peek().arrivalNanos() <= now) {
        Chunk c = inFlight.poll();
        if (c.data() == null) {
          destination.writeAndFlush(Unpooled.EMPTY_BUFFER)
              .addListener(ChannelFutureListener.CLOSE);
          return;
        }
        destination.write(c.data(), destination.voidPromise());
        wrote = true;
      }
      if (wrote) {
        destination.flush();
      }
      scheduleDelivery();
    }
  }

  /**
   * The handler of each of a connection's two channels: what it reads goes out through
   * {@code outgoing}; {@code incoming} writes into it.
   */
  private static final class Forwarder extends ChannelInboundHandlerAdapter {
    private final Direction outgoing;
    private final Direction incoming;

    Forwarder(Direction outgoing, Direction incoming) {
      this.outgoing = outgoing;
      this.incoming = incoming;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      outgoing.received((ByteBuf) msg);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      incoming.updateReading();
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      outgoing.sourceClosed();
      incoming.destinationClosed();
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
