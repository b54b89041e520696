package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pbj.PbException;

/**
 * One cache update pushed to many observers at once ({@link io.pbj.RemoteObserver#callRemoteAll}):
 * its method and arguments are encoded once for all the connections of one broker, when those
 * bytes are the same on each (no reference, cache or view among the arguments, see {@link
 * ReferenceWriter#encodeSharedUpdateBody}); then the whole frame (length, flags, the type and
 * cache id, the body) is built once per distinct cache id, which is all that differs between
 * observers (usually one: connections that were offered the same objects in the same order give
 * them the same ids), and each observer writes a retained duplicate of it, as a Netty broadcast
 * does. A message too large for one frame is written as the observer's own header before a
 * retained duplicate of the body, and framed (chunked) by the pipeline. Updates with a
 * reference, and updates that wait in an observer's queue, are encoded by each connection as for
 * {@link io.pbj.RemoteObserver#callRemote}.
 *
 * <p>Ownership: this object holds one reference to the body and to each frame; every write holds
 * its own duplicate, released when it is written or dropped. {@link #release} gives back this
 * object's references once every observer has had its turn.
 *
 * <p>Thread-safety: not thread-safe; used by the one thread that pushes the update.
 */
final class SharedUpdate {
  /** Distinct cache ids whose frames are kept; observers beyond them get frames of their own. */
  static final int MAX_FRAMES = 16;

  /** Test hook: where shared bodies and frames are allocated instead of the channel's allocator. */
  static volatile ByteBufAllocator bodyAllocator;

  private final String method;
  private final Object[] args;
  /** The broker whose connections the body was encoded for; null before the first encode. */
  private BrokerConfig encodedFor;
  /** The body, or null while not encoded or when it must be encoded per connection. */
  private ByteBuf body;
  private PbException failure;
  /** Whole frames by cache id, for {@link #encodedFor}. */
  private final int[] frameIds = new int[MAX_FRAMES];
  private final ByteBuf[] frames = new ByteBuf[MAX_FRAMES];
  private int frameCount;

  SharedUpdate(String method, Object[] args) {
    this.method = method;
    this.args = args;
  }

  String method() {
    return method;
  }

  Object[] args() {
    return args;
  }

  /**
   * The shared body for an observer on {@code connection}, encoded the first time it is asked for
   * on a connection of this broker; null when the update must be encoded per connection. An
   * update that cannot be encoded throws, the same exception for each connection of the broker.
   */
  ByteBuf bodyFor(Connection connection) {
    BrokerConfig config = connection.config();
    if (encodedFor != config) {
      release();
      encodedFor = config;
      failure = null;
      try {
        body = connection.encodeSharedUpdateBody(method, args);
      } catch (PbException e) {
        failure = e;
      }
    }
    if (failure != null) {
      throw failure;
    }
    return body;
  }

  /**
   * What an observer on {@code connection} writes for this update, after {@link #bodyFor} gave a
   * body: a {@link Framed} duplicate of the frame for {@code cacheId}, or, for a message larger
   * than one frame, {@code header} before a duplicate of the body. Either is the caller's to write.
   *
   * @param header the observer's type byte and cache id (see {@link WireCodec#writeUpdateHeader})
   */
  ByteBuf messageFor(Connection connection, int cacheId, byte[] header) {
    BrokerConfig config = connection.config();
    int messageBytes = header.length + body.readableBytes();
    if (messageBytes > config.maxMessage()) {
      throw new PbException(
          PbException.Code.LIMIT_EXCEEDED,
          "the update '" + method + "' does not fit the message limit of " + config.maxMessage()
              + " bytes");
    }
    if (1 + messageBytes > config.maxFrame()) {
      ByteBufAllocator alloc = connection.channel().alloc();
      ByteBuf own = alloc.buffer(header.length).writeBytes(header);
      return alloc.compositeBuffer(2).addComponents(true, own, body.retainedDuplicate());
    }
    ByteBufAllocator alloc = allocator(connection);
    for (int i = 0; i < frameCount; i++) {
      if (frameIds[i] == cacheId) {
        return new Framed(frames[i].retainedDuplicate());
      }
    }
    ByteBuf frame = alloc.buffer(Wire.LENGTH_FIELD + 1 + messageBytes);
    frame
        .writeInt(1 + messageBytes)
        .writeByte(0) // flags: the only frame of its message
        .writeBytes(header)
        .writeBytes(body, body.readerIndex(), body.readableBytes());
    if (frameCount == MAX_FRAMES) {
      return new Framed(frame); // this observer's own
    }
    frameIds[frameCount] = cacheId;
    frames[frameCount++] = frame;
    return new Framed(frame.retainedDuplicate());
  }

  private static ByteBufAllocator allocator(Connection connection) {
    ByteBufAllocator hook = bodyAllocator;
    return hook != null ? hook : connection.channel().alloc();
  }

  /** Gives back this object's references to the body and the frames; every write holds its own. */
  void release() {
    if (body != null) {
      body.release();
      body = null;
    }
    for (int i = 0; i < frameCount; i++) {
      frames[i].release();
      frames[i] = null;
    }
    frameCount = 0;
  }
}
