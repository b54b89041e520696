package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LengthFieldPrepender;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.ssl.SslHandler;
import io.pbj.PbConnection;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Builds the pipeline of every PBJ channel, in this fixed, named order (inbound top to bottom).
 * On a server, a connection over its caps gets only {@code tls} (when on) and {@code refusal}
 * (see {@link Refusal}); every other one gets:
 *
 * <ol>
 *   <li>{@code tls} (when TLS is on): Netty's {@code SslHandler}, first so that every byte
 *       after it, the preamble included, is encrypted; the byte counters below it then count
 *       plaintext;
 *   <li>{@code flush}: merges the flushes of a burst of writes into one system call;
 *   <li>{@code traffic}: byte counters;
 *   <li>{@code preamble}: sends and checks the magic and version, then removes itself;
 *   <li>{@code frame-encoder}: adds the 4-byte length prefix to outgoing frames;
 *   <li>{@code chunker}: splits outgoing messages into frames; reads incoming frames (length,
 *       flags, chunk) and joins them into messages, bounded by the frame and message limits
 *       and, on a server, by its {@link Admission} (see {@link ChunkCodec});
 *   <li>{@code codec}: bytes to message records (the channel's decoding Kryo; small messages on
 *       the event loop, large ones on the decode pool, delivered in arrival order, see {@link
 *       MessageCodec}; messages are encoded on the sending thread, see {@link Connection#encode});
 *   <li>{@code handshake}: registry agreement, then removes itself;
 *   <li>{@code idle} (when keep-alive is on): pings when idle, closes a connection from which
 *       no message has come for the timeout;
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
  private final Admission admission;
  private int minVersion = Wire.MIN_PROTOCOL_VERSION;
  private int maxVersion = Wire.PROTOCOL_VERSION;

  /**
   * Per-channel options beyond {@link BrokerConfig}.
   *
   * @param tls TLS settings, or null for plaintext
   * @param peer the address a client dials (for TLS hostname checks); null on a server
   * @param keepAliveInterval ping after this much write silence; null for no keep-alive
   * @param keepAliveTimeout close after this much read silence; null for no keep-alive
   * @param slowReaderTimeout stop reading while the peer does not read, and close after this
   *     long; null never stops reading for it (clients: two peers that both stopped reading
   *     while waiting for the other would wait forever)
   */
  public record Channels(
      Tls tls,
      SocketAddress peer,
      Duration keepAliveInterval,
      Duration keepAliveTimeout,
      Duration slowReaderTimeout) {
    public static final Channels PLAIN = new Channels(null, null, null, null, null);
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
    this(config, rootFactory, onCreate, channels, null);
  }

  /**
   * A server's pipeline.
   *
   * @param rootFactory the root object of each new connection, or null for none
   * @param onCreate told of each connection as soon as it exists
   * @param channels TLS and keep-alive
   * @param admission what the server's connections share to enforce its limits; null for none
   */
  public Pipeline(
      BrokerConfig config,
      Function<PbConnection, Object> rootFactory,
      Consumer<Connection> onCreate,
      Channels channels,
      Admission admission) {
    this.config = config;
    this.rootFactory = rootFactory;
    this.onCreate = onCreate;
    this.channels = channels;
    this.admission = admission;
  }

  /**
   * Makes the channels of this pipeline claim protocol versions {@code min} to {@code max} in
   * their HELLO instead of this build's (for tests of version negotiation).
   */
  Pipeline protocolVersions(int min, int max) {
    this.minVersion = min;
    this.maxVersion = max;
    return this;
  }

  @Override
  protected void initChannel(Channel channel) {
    if (admission != null) {
      String refusal = admission.admit(channel);
      if (refusal != null) {
        refuse(channel, refusal);
        return;
      }
    }
    Connection connection = new Connection(channel, config);
    if (rootFactory != null) {
      connection.createRoot(rootFactory);
    }
    ReferenceReader reader = connection.reader();
    PbKryo kryo = KryoSetup.create(config.registry(), config.maxDepth(), reader, reader.peer());
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
    p.addLast("frame-encoder", new FrameEncoder());
    ChunkCodec chunker =
        new ChunkCodec(
            config.maxFrame(),
            config.maxMessage(),
            connection::acceptsInput,
            admission == null ? ChunkCodec.Limits.NONE : admission.codecLimits(connection));
    p.addLast("chunker", chunker);
    p.addLast(
        "codec",
        new MessageCodec(
            kryo,
            connection,
            reader,
            DecodePool.executor(),
            admission == null ? null : admission.budget()));
    p.addLast(
        "handshake",
        new HandshakeHandler(config.registry(), connection, minVersion, maxVersion));
    if (channels.keepAliveInterval() != null) {
      p.addLast(
          "idle",
          new KeepAliveHandler(
              connection,
              channels.keepAliveInterval(),
              channels.keepAliveTimeout(),
              chunker::framesWritten));
    }
    p.addLast("broker", new BrokerHandler(connection, channels.slowReaderTimeout()));
    if (channels.slowReaderTimeout() != null) {
      connection.holdCallsWhileUnwritable();
    }
    if (admission != null) {
      Deadlines.watch(connection, admission.limits());
    }
    onCreate.accept(connection);
  }

  /** Adds the length prefix to each frame, except to a {@link Framed}, which has its own. */
  private static final class FrameEncoder extends LengthFieldPrepender {
    FrameEncoder() {
      super(Wire.LENGTH_FIELD);
    }

    @Override
    public boolean acceptOutboundMessage(Object msg) throws Exception {
      return !(msg instanceof Framed) && super.acceptOutboundMessage(msg);
    }
  }

  /** A connection over the server's caps: told why, then closed (see {@link Refusal}). */
  private void refuse(Channel channel, String reason) {
    if (!admission.startRefusal(channel)) {
      channel.close(); // refusing too many already: no goodbye, just the descriptor back
      return;
    }
    ChannelPipeline p = channel.pipeline();
    Tls tls = channels.tls();
    if (tls != null) {
      p.addLast("tls", tls.newHandler(channel, null));
    }
    p.addLast("refusal", new Refusal(reason, tls == null));
  }
}
