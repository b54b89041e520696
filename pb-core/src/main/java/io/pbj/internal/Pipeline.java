package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.pbj.PbConnection;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Builds the pipeline of every PBJ channel, in this fixed, named order (inbound top to bottom):
 *
 * <ol>
 *   <li>{@code flush}: merges the flushes of a burst of writes into one system call;
 *   <li>{@code traffic}: byte counters;
 *   <li>{@code preamble}: sends and checks the magic and version, then removes itself;
 *   <li>{@code frame-decoder} / {@code frame-encoder}: 4-byte length prefix, bounded;
 *   <li>{@code chunker}: splits messages into frames and joins them back, bounded;
 *   <li>{@code codec}: message records to bytes and back (the channel's Kryo);
 *   <li>{@code handshake}: registry agreement, then removes itself;
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

  /**
   * @param rootFactory the root object of each new connection, or null for none
   * @param onCreate told of each connection as soon as it exists
   */
  public Pipeline(
      BrokerConfig config, Function<PbConnection, Object> rootFactory, Consumer<Connection> onCreate) {
    this.config = config;
    this.rootFactory = rootFactory;
    this.onCreate = onCreate;
  }

  @Override
  protected void initChannel(Channel channel) {
    Connection connection = new Connection(channel, config, null);
    if (rootFactory != null) {
      connection.createRoot(rootFactory);
    }
    Kryo kryo = KryoSetup.create(config.registry(), config.maxDepth(), connection);
    Map<Integer, String> registry = KryoSetup.describe(kryo, config.registry());
    ChannelPipeline p = channel.pipeline();
    p.addLast("flush", new FlushConsolidationHandler(256, true));
    p.addLast("traffic", new TrafficCounter(connection));
    p.addLast("preamble", new PreambleHandler(connection::fail));
    p.addLast(
        "frame-decoder",
        new LengthFieldBasedFrameDecoder(
            config.maxFrame() + Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD, 0, Wire.LENGTH_FIELD));
    p.addLast("frame-encoder", new LengthFieldPrepender(Wire.LENGTH_FIELD));
    p.addLast("chunker", new ChunkCodec(config.maxFrame(), config.maxMessage()));
    p.addLast("codec", new MessageCodec(kryo, connection, config.maxMessage()));
    p.addLast("handshake", new HandshakeHandler(registry, connection));
    p.addLast("broker", new BrokerHandler(connection));
    onCreate.accept(connection);
  }
}
