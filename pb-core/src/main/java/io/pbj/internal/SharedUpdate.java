package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.pbj.PbException;

/**
 * One cache update pushed to many observers at once ({@link io.pbj.RemoteObserver#callRemoteAll}):
 * its method and arguments are encoded once for all the connections of one broker, when those
 * bytes are the same on each (no reference, cache or view among the arguments, see {@link
 * ReferenceWriter#encodeSharedUpdateBody}), and each observer adds only its cache id. Otherwise,
 * or for updates that wait in an observer's queue, each connection encodes its own as for {@link
 * io.pbj.RemoteObserver#callRemote}.
 *
 * <p>Ownership: this object holds one reference to the shared body; each observer's frame takes
 * a copy of small bodies, or a retained duplicate of large ones, which its write releases.
 * {@link #release} gives back this object's reference once every observer has had its turn.
 *
 * <p>Thread-safety: not thread-safe; used by the one thread that pushes the update.
 */
final class SharedUpdate {
  /**
   * Bodies up to this size are copied into each observer's frame, which then is one buffer from
   * end to end; larger ones are shared as retained duplicates behind a header of the observer's
   * own, so that a large update is held once however many observers it goes to.
   */
  static final int COPY_MAX = 1024;

  /** Test hook: where shared bodies are allocated instead of the channel's allocator. */
  static volatile io.netty.buffer.ByteBufAllocator bodyAllocator;

  private final String method;
  private final Object[] args;
  /** The broker whose connections the body was encoded for; null before the first encode. */
  private BrokerConfig encodedFor;
  /** The body, or null while not encoded or when it must be encoded per connection. */
  private ByteBuf body;
  private PbException failure;

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

  /** Gives back this object's reference to the body; every frame holds its own. */
  void release() {
    if (body != null) {
      body.release();
      body = null;
    }
  }
}
