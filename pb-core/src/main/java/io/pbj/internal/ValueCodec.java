package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.KryoBufferOverflowException;
import com.esotericsoftware.kryo.kryo5.io.KryoBufferUnderflowException;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The implementation of {@link io.pbj.PbCodec}: one value, encoded and decoded outside any
 * connection with the Kryo a connection uses ({@link KryoSetup#create}), so the same bytes as
 * inside a message, and decoded under the same budgets ({@link BoundedInput}, {@link
 * DecodeContext}, the nesting limit). References have no meaning here: writing one is refused,
 * and bytes that hold one do not decode.
 *
 * <p>Thread-safety: thread-safe. Each encode and decode takes a Kryo of its own from a small pool.
 */
public final class ValueCodec {
  /** Kryos kept for reuse; more than this many idle ones are dropped. */
  private static final int POOL_SIZE = 16;

  /** An output grown past this is replaced after use, so one huge value does not stay. */
  private static final int KEEP_OUTPUT_BYTES = 64 * 1024;

  private final PbRegistry registry;
  private final int maxBytes;
  private final ConcurrentLinkedQueue<Worker> pool = new ConcurrentLinkedQueue<>();
  private final Map<Class<?>, Integer> formats = new ConcurrentHashMap<>();

  /**
   * @param maxBytes the largest encoding accepted, both ways
   */
  public ValueCodec(PbRegistry registry, int maxBytes) {
    this.registry = Objects.requireNonNull(registry, "registry");
    if (maxBytes < 1) {
      throw new IllegalArgumentException("maxBytes must be at least 1, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
  }

  /** The default limit: a message's ({@link Wire#DEFAULT_MAX_MESSAGE}). */
  public static int defaultMaxBytes() {
    return Wire.DEFAULT_MAX_MESSAGE;
  }

  /** The largest input decoded, and the largest encoding made. */
  public int maxBytes() {
    return maxBytes;
  }

  /** The registry whose value types this codec encodes. */
  public PbRegistry registry() {
    return registry;
  }

  /** Why a value cannot be encoded, in words for the caller; not a Kryo exception. */
  private static final class NotEncodable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotEncodable(String message) {
      super(message, null, false, false);
    }
  }

  /** A Kryo set up as a connection's, with its output; used by one thread at a time. */
  private final class Worker implements KryoSetup.ReferenceCodec {
    final PbKryo kryo = KryoSetup.create(registry, Wire.DEFAULT_MAX_DEPTH, this);
    Output output = newOutput();

    @Override
    public void write(Kryo kryo, Output out, Object value) {
      throw new NotEncodable(
          value.getClass().getName() + " is a reference (Referenceable, Cacheable, RemoteCache"
              + " or RemoteReference): references exist only on a connection and are never"
              + " encoded as values; register a value type and encode that instead");
    }

    @Override
    public Object read(Kryo kryo, Input input) {
      throw new KryoException("the bytes hold a reference, which exists only on a connection");
    }
  }

  private Output newOutput() {
    return new Output(Math.min(256, maxBytes), maxBytes);
  }

  private Worker take() {
    Worker w = pool.poll();
    return w != null ? w : new Worker();
  }

  private void give(Worker w) {
    if (w.output.getBuffer().length > KEEP_OUTPUT_BYTES) {
      w.output = newOutput();
    }
    if (pool.size() < POOL_SIZE) {
      pool.offer(w);
    }
  }

  /**
   * The bytes of {@code value}.
   *
   * @throws IllegalArgumentException if it is, or holds, something that is not a registered or
   *     built-in value, or its encoding exceeds the limit
   */
  public byte[] encode(Object value) {
    Worker w = take();
    Output out = w.output;
    out.reset();
    boolean ok = false;
    try {
      w.kryo.writeClassAndObject(out, value);
      byte[] bytes = out.toBytes();
      ok = true;
      return bytes;
    } catch (RuntimeException e) {
      throw encodeFailure(value, e);
    } finally {
      w.kryo.reset();
      if (!ok) {
        w.kryo.resetGenerics();
      }
      give(w);
    }
  }

  private IllegalArgumentException encodeFailure(Object value, RuntimeException e) {
    String what = "cannot encode a " + value.getClass().getName() + ": ";
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NotEncodable n) {
        return new IllegalArgumentException(what + n.getMessage());
      }
      if (t instanceof KryoBufferOverflowException) {
        return new IllegalArgumentException(
            what + "its encoding is larger than the codec's limit of " + maxBytes + " bytes", e);
      }
      String m = firstLine(t.getMessage());
      if (t instanceof IllegalArgumentException && m.startsWith("Class is not registered: ")) {
        String name = m.substring("Class is not registered: ".length());
        return new IllegalArgumentException(
            what + name + " is not registered; register it with PbRegistry.Builder.register"
                + " (only registered and built-in value types are encoded)",
            e);
      }
      if (m.contains("Max depth exceeded")) {
        return new IllegalArgumentException(
            what + "it nests deeper than the limit of " + Wire.DEFAULT_MAX_DEPTH + " levels", e);
      }
    }
    return new IllegalArgumentException(what + firstLine(e.getMessage()), e);
  }

  /**
   * The value {@code bytes} hold, which must be a {@code type} (or null).
   *
   * @throws PbException with {@link Code#BAD_ARGUMENTS} if the bytes are larger than the limit,
   *     are not one whole value, hold a reference, exceed a decoding budget, or hold another type
   */
  public <T> T decode(byte[] bytes, Class<T> type) {
    Objects.requireNonNull(bytes, "bytes");
    Objects.requireNonNull(type, "type");
    String what = "cannot decode a " + type.getName() + " from " + bytes.length + " bytes: ";
    if (bytes.length > maxBytes) {
      throw new PbException(
          Code.BAD_ARGUMENTS, what + "more than the codec's limit of " + maxBytes + " bytes");
    }
    Object value;
    Worker w = take();
    DecodeContext context = new DecodeContext(bytes.length, Wire.DEFAULT_MAX_DECODE_EXPANSION);
    Input in = new BoundedInput(bytes, context);
    w.kryo.beginDecode(context);
    try {
      value = w.kryo.readClassAndObject(in);
    } catch (RuntimeException e) {
      throw new PbException(Code.BAD_ARGUMENTS, what + decodeReason(e), e);
    } finally {
      w.kryo.endDecode();
      give(w);
    }
    int trailing = bytes.length - in.position();
    if (trailing != 0) {
      throw new PbException(
          Code.BAD_ARGUMENTS,
          what + trailing + (trailing == 1 ? " byte follows" : " bytes follow")
              + " the value; the bytes must hold exactly one value");
    }
    if (value == null && type.isPrimitive()) {
      throw new PbException(
          Code.BAD_ARGUMENTS, what + "they hold null, which a " + type.getName() + " cannot be");
    }
    if (value != null && !Reflection.box(type).isInstance(value)) {
      throw new PbException(
          Code.BAD_ARGUMENTS, what + "they hold a " + value.getClass().getName());
    }
    @SuppressWarnings("unchecked") // checked just above
    T t = (T) value;
    return t;
  }

  private static String decodeReason(RuntimeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof DecodeContext.Refused refused) {
        return refused.reason();
      }
      if (t instanceof KryoBufferUnderflowException) {
        return "they end before the value does (truncated?)";
      }
      if (firstLine(t.getMessage()).contains("Max depth exceeded")) {
        return "the value nests deeper than the limit of " + Wire.DEFAULT_MAX_DEPTH + " levels";
      }
    }
    return firstLine(e.getMessage() == null ? e.toString() : e.getMessage());
  }

  /**
   * The fingerprint of {@code type}'s shape as this registry sees it ({@link ValueFormat}).
   *
   * @throws IllegalArgumentException if the type has no shape of its own to fingerprint
   */
  public int formatOf(Class<?> type) {
    Objects.requireNonNull(type, "type");
    Integer known = formats.get(type);
    if (known != null) {
      return known;
    }
    int format = ValueFormat.fingerprint(registry, type);
    formats.put(type, format);
    return format;
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
