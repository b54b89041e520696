package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.Referenceable;
import io.pbj.RemoteCache;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The encoding side of one connection: turns messages into buffers on the sending thread, writing
 * every reference in a value as the peer must see it. A {@link Referenceable} is exported and
 * travels as the peer's import; a {@link Cacheable} is exported with its state for this
 * connection's perspective (and gets an observer); a proxy or cache the peer exported travels back
 * as the peer's own object. A value that cannot be encoded rolls back every export it made.
 *
 * <p>Thread-safety: thread-safe. Each encode takes a Kryo of its own from a small pool, so any
 * number of threads may encode at once; calls made from one thread are encoded in order.
 */
final class ReferenceWriter {
  /** Encoders kept for reuse; more than this many idle ones are dropped. */
  private static final int POOL_SIZE = 16;

  /** An output grown past this is replaced after use, so one huge message does not stay. */
  private static final int KEEP_OUTPUT_BYTES = 64 * 1024;

  private final Connection connection;
  private final BrokerConfig config;
  private final ExportTable exports;
  private final CacheObservers observers;
  private final ConcurrentLinkedQueue<Encoder> pool = new ConcurrentLinkedQueue<>();

  ReferenceWriter(
      Connection connection, BrokerConfig config, ExportTable exports, CacheObservers observers) {
    this.connection = connection;
    this.config = config;
    this.exports = exports;
    this.observers = observers;
  }

  /**
   * Encodes {@code message} on the calling thread into a buffer from {@code alloc}. A value that
   * cannot be encoded throws a {@link PbException}, and every export it made is rolled back.
   */
  ByteBuf encode(Message message, ByteBufAllocator alloc) {
    Encoder e = pool.poll();
    if (e == null) {
      e = new Encoder();
    }
    Output out = e.output;
    out.reset();
    e.exported.clear();
    boolean ok = false;
    ByteBuf buf;
    try {
      WireCodec.encode(message, e.kryo, out);
      buf = alloc.buffer(out.position());
      buf.writeBytes(out.getBuffer(), 0, out.position());
      ok = true;
    } catch (RuntimeException ex) {
      throw WireCodec.failure(
          ex, WireCodec.describe(message), true, config.maxDepth(), config.maxMessage());
    } finally {
      e.kryo.reset();
      if (!ok) {
        e.kryo.resetGenerics();
        for (int id : e.exported) {
          exports.unsend(id);
        }
        CacheObservers.discardPending();
      }
      e.exported.clear();
      if (out.getBuffer().length > KEEP_OUTPUT_BYTES) {
        e.output = newOutput();
      }
      // only now, with the bytes copied out, may another thread take this encoder
      if (pool.size() < POOL_SIZE) {
        pool.offer(e);
      }
    }
    return buf;
  }

  /**
   * Encodes the method and arguments of a cache update (everything after its cache id, see {@link
   * WireCodec#writeUpdateBody}) into a buffer from {@code alloc}, if those bytes are the same on
   * every connection of this broker: that is, if no value in {@code args} is written as a
   * reference, cache or view, which are the only things whose bytes depend on the connection (its
   * export and import tables; a view's perspective is the peer's). Returns null when a value is a
   * reference of any kind: then nothing was exported, and the update must be encoded for each
   * connection. A value that cannot be encoded throws a {@link PbException}.
   */
  ByteBuf encodeSharedUpdateBody(String method, Object[] args, ByteBufAllocator alloc) {
    Encoder e = pool.poll();
    if (e == null) {
      e = new Encoder();
    }
    Output out = e.output;
    out.reset();
    e.exported.clear();
    e.shared = true;
    try {
      WireCodec.writeUpdateBody(e.kryo, out, method, args);
      ByteBuf buf = alloc.buffer(out.position());
      buf.writeBytes(out.getBuffer(), 0, out.position());
      return buf;
    } catch (RuntimeException ex) {
      for (Throwable t = ex; t != null; t = t.getCause()) {
        if (t == PerConnection.INSTANCE) {
          return null;
        }
      }
      throw WireCodec.failure(
          ex, "update '" + method + "'", true, config.maxDepth(), config.maxMessage());
    } finally {
      e.shared = false;
      e.kryo.reset();
      e.kryo.resetGenerics();
      e.exported.clear(); // a shared encode exports nothing: references stop it first
      if (out.getBuffer().length > KEEP_OUTPUT_BYTES) {
        e.output = newOutput();
      }
      if (pool.size() < POOL_SIZE) {
        pool.offer(e);
      }
    }
  }

  /** Stops a shared encode at its first reference; thrown without a stack, it costs nothing. */
  private static final class PerConnection extends RuntimeException {
    static final PerConnection INSTANCE = new PerConnection();

    private PerConnection() {
      super("a reference is encoded per connection", null, false, false);
    }
  }

  /** An output that grows up to the message limit (Kryo refuses a start larger than its limit). */
  private Output newOutput() {
    return new Output(Math.min(4096, config.maxMessage()), config.maxMessage());
  }

  /** One encoding context: a Kryo bound to this connection, its output, and its exports. */
  private final class Encoder implements KryoSetup.ReferenceCodec {
    final PbKryo kryo =
        KryoSetup.create(config.registry(), config.maxDepth(), this, connection.peer());
    final List<Integer> exported = new ArrayList<>();
    Output output = newOutput();
    /** Encoding bytes to share between connections: a reference stops it (see PerConnection). */
    boolean shared;

    @Override
    public void write(Kryo kryo, Output out, Object value) {
      writeReference(this, kryo, out, value);
    }

    @Override
    public Object read(Kryo kryo, Input input) {
      throw new IllegalStateException("encoders do not decode");
    }
  }

  private void writeReference(Encoder encoder, Kryo kryo, Output output, Object value) {
    if (encoder.shared) {
      throw PerConnection.INSTANCE;
    }
    RealRemoteReference ref =
        value instanceof RealRemoteReference r ? r : TypedProxies.unwrap(value);
    if (ref != null) {
      if (ref.owner() != connection) {
        throw new PbException(
            Code.UNSERIALIZABLE,
            ref + " belongs to another connection; references can only be sent back where they"
                + " came from");
      }
      if (ref.state().isReleased()) {
        throw new PbException(Code.DEAD_REFERENCE, ref + " was released");
      }
      output.writeByte(Wire.REF_MINE);
      output.writeVarInt(ref.id(), true);
      return;
    }
    if (value instanceof RemoteCache cache) {
      CacheHandle handle = CacheHandle.of(cache);
      if (handle == null || handle.connection != connection) {
        throw new PbException(
            Code.UNSERIALIZABLE,
            cache.getClass().getName() + " belongs to another connection; caches can only be"
                + " sent back where they came from");
      }
      if (handle.state.isReleased()) {
        throw new PbException(Code.DEAD_REFERENCE, cache.getClass().getName() + " was released");
      }
      output.writeByte(Wire.REF_MINE);
      output.writeVarInt(handle.id, true);
      return;
    }
    if (value instanceof Cacheable cacheable) {
      writeCache(encoder, kryo, output, cacheable);
      return;
    }
    if (!(value instanceof Referenceable)) {
      throw new PbException(
          Code.UNSERIALIZABLE,
          value.getClass().getName() + " is neither registered nor Referenceable");
    }
    int id = exports.export(value);
    encoder.exported.add(id);
    output.writeByte(Wire.REF_YOURS);
    output.writeVarInt(id, true);
  }

  private void writeCache(Encoder encoder, Kryo kryo, Output output, Cacheable cacheable) {
    Class<?> sentAs = cacheable.sentAs();
    Integer typeId = sentAs == null ? null : config.registry().cacheIdOf(sentAs);
    if (typeId == null) {
      throw new PbException(
          Code.UNSERIALIZABLE,
          cacheable.getClass().getName() + " is Cacheable but "
              + (sentAs == cacheable.getClass()
                  ? "not registered (registerCache)"
                  : "is sent as " + (sentAs == null ? "null" : sentAs.getName())
                      + ", which is not registered (registerCache)"));
    }
    connection.peer().checkSend(typeId, "the Cacheable " + cacheable.getClass().getName());
    int id = exports.export(cacheable);
    encoder.exported.add(id);
    RealRemoteObserver observer = observers.observerFor(cacheable, id);
    Object state = cacheable.stateFor(observer.perspective(), observer);
    output.writeByte(Wire.REF_CACHE);
    output.writeVarInt(id, true);
    output.writeVarInt(typeId, true);
    kryo.writeClassAndObject(output, state);
  }
}
