package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.pbj.PbConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Builds the pipeline of every PBJ channel, in this fixed, named order (inbound top to bottom):
 *
 * <ol>
 *   <li>{@code tls} (when TLS is on): Netty's {@code SslHandler}, first so that every byte
 *       after it, the preamble included, is encrypted; the byte counters below it then count
 *       plaintext;
 *   <li>{@code flush}: merges the flushes of a burst of writes into one system call;
 *   <li>{@code traffic}: byte counters;
 *   <li>{@code preamble}: sends and checks the magic and version, then removes itself;
 *   <li>{@code frame-decoder} / {@code frame-encoder}: 4-byte length prefix, bounded;
 *   <li>{@code chunker}: splits messages into frames and joins them back, bounded;
 *   <li>{@code codec}: bytes to message records (the channel's decoding Kryo; small messages on
 *       the event loop, large ones on the decode pool, delivered in arrival order, see {@link
 *       MessageCodec}; messages are encoded on the sending thread, see {@link Connection#encode});
 *   <li>{@code handshake}: registry agreement, then removes itself;
 *   <li>{@code idle} (when keep-alive is on): pings when idle, closes a silent connection;
 *   <li>{@code broker}: hands messages to the {@link Connection}.
 * </ol>
 *
 * <p>Thread-safety: the initializer is shared by all channels of one server or client; it
 * creates per-channel handlers.
 */
public final class Pipeline extends ChannelInitializer<Channel> {
  private final BrokerConfig config;
  private final Function<PbConnection, Object> rootFactory;
  private final Consumer<Connection> onCreate;
  private final Channels channels;

  /**
   * Per-channel options beyond {@link BrokerConfig}.
   *
   * @param tls TLS settings, or null for plaintext
   * @param peer the address a client dials (for TLS hostname checks); null on a server
   * @param keepAliveInterval ping after this much write silence; null for no keep-alive
   * @param keepAliveTimeout close after this much read silence; null for no keep-alive
   */
  public record Channels(
      Tls tls, SocketAddress peer, Duration keepAliveInterval, Duration keepAliveTimeout) {
    public static final Channels PLAIN = new Channels(null, null, null, null);
  }

  /**
   * @param rootFactory the root object of each new connection, or null for none
   * @param onCreate told of each connection as soon as it exists
   */
  public Pipeline(
      BrokerConfig config, Function<PbConnection, Object> rootFactory, Consumer<Connection> onCreate) {
    this(config, rootFactory, onCreate, Channels.PLAIN);
  }

  /**
   * @param rootFactory the root object of each new connection, or null for none
   * @param onCreate told of each connection as soon as it exists
   * @param channels TLS and keep-alive
   */
  public Pipeline(
      BrokerConfig config,
      Function<PbConnection, Object> rootFactory,
      Consumer<Connection> onCreate,
      Channels channels) {
    this.config = config;
    this.rootFactory = rootFactory;
    this.onCreate = onCreate;
    this.channels = channels;
  }

  @Override
  protected void initChannel(Channel channel) {
    Connection connection = new Connection(channel, config, null);
    if (rootFactory != null) {
      connection.createRoot(rootFactory);
    }
    Connection.Decoding decoding = connection.decoding();
    PbKryo kryo = KryoSetup.create(config.registry(), config.maxDepth(), decoding);
    Map<Integer, String> registry = KryoSetup.describe(config.registry());
    ChannelPipeline p = channel.pipeline();
    Tls tls = channels.tls();
    if (tls != null) {
      SslHandler ssl = tls.newHandler(channel, channels.peer());
      ssl.handshakeFuture()
          .addListener(
              f -> {
                if (!f.isSuccess()) {
                  SocketAddress peer =
                      channels.peer() != null ? channels.peer() : channel.remoteAddress();
                  connection.fail(tls.handshakeFailure(f.cause(), peer));
                }
              });
      p.addLast("tls", ssl);
    }
    p.addLast("flush", new FlushConsolidationHandler(256, true));
    p.addLast("traffic", new TrafficCounter(connection));
    p.addLast("preamble", new PreambleHandler(connection::fail));
    p.addLast(
        "frame-decoder",
        new LengthFieldBasedFrameDecoder(
            config.maxFrame() + Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD));
    p.addLast("frame-encoder", new LengthFieldPrepender(Wire.LENGTH_FIELD));
    p.addLast("chunker", new ChunkCodec(config.maxFrame(), config.maxMessage()));
    p.addLast("codec", new MessageCodec(kryo, connection, decoding));
    p.addLast("handshake", new HandshakeHandler(registry, connection));
    if (channels.keepAliveInterval() != null) {
      p.addLast(
          "idle",
          new KeepAliveHandler(
              connection, channels.keepAliveInterval(), channels.keepAliveTimeout()));
    }
    p.addLast("broker", new BrokerHandler(connection));
    onCreate.accept(connection);
  }
}
