package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.ClassResolver;
import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;

/**
 * The Kryo of one connection. While a message is decoded it carries that message's {@link
 * DecodeContext}, and every value read (through any of Kryo's read methods, from any serializer,
 * Kryo's own included) reports to it: its shallow heap size for the allocation budget (what the
 * serializers do not charge themselves), where it started on the wire and its {@linkplain
 * DecodeContext#multiplier multiplier}, which the hash-container serializers need to bound their
 * work.
 *
 * <p>Thread-safety: not thread-safe; used by one thread at a time, with a happens-before edge
 * between uses (see {@link MessageCodec}).
 */
final class PbKryo extends Kryo {
  private DecodeContext context;

  PbKryo(ClassResolver resolver) {
    super(resolver, null);
  }

  /** The context of the message being decoded, or null outside a decode. */
  DecodeContext context() {
    return context;
  }

  /** Decodes the next message under {@code context}, until {@link #endDecode()}. */
  void beginDecode(DecodeContext context) {
    this.context = context;
  }

  void endDecode() {
    context = null;
    reset();
  }

  /**
   * The context of the message being decoded; fails if there is none (a serializer used outside
   * {@link WireCodec#decode}).
   */
  static DecodeContext contextOf(Kryo kryo) {
    DecodeContext c = kryo instanceof PbKryo k ? k.context : null;
    if (c == null) {
      throw new IllegalStateException("values are decoded only inside WireCodec.decode");
    }
    return c;
  }

  @Override
  public Object readClassAndObject(Input input) {
    DecodeContext c = context;
    if (c == null) {
      return super.readClassAndObject(input);
    }
    int start = input.position();
    long enclosing = c.multiplier;
    c.multiplier = 1;
    Object value = super.readClassAndObject(input);
    completed(c, value, start, enclosing);
    return value;
  }

  @Override
  public <T> T readObject(Input input, Class<T> type) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObject(input, type);
    }
    int start = input.position();
    long enclosing = c.multiplier;
    c.multiplier = 1;
    T value = super.readObject(input, type);
    completed(c, value, start, enclosing);
    return value;
  }

  @Override
  public <T> T readObject(Input input, Class<T> type, Serializer serializer) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObject(input, type, serializer);
    }
    int start = input.position();
    long enclosing = c.multiplier;
    c.multiplier = 1;
    T value = super.readObject(input, type, serializer);
    completed(c, value, start, enclosing);
    return value;
  }

  @Override
  public <T> T readObjectOrNull(Input input, Class<T> type) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObjectOrNull(input, type);
    }
    int start = input.position();
    long enclosing = c.multiplier;
    c.multiplier = 1;
    T value = super.readObjectOrNull(input, type);
    completed(c, value, start, enclosing);
    return value;
  }

  @Override
  public <T> T readObjectOrNull(Input input, Class<T> type, Serializer serializer) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObjectOrNull(input, type, serializer);
    }
    int start = input.position();
    long enclosing = c.multiplier;
    c.multiplier = 1;
    T value = super.readObjectOrNull(input, type, serializer);
    completed(c, value, start, enclosing);
    return value;
  }

  private static void completed(DecodeContext c, Object value, int start, long enclosing) {
    c.allocate(HeapSizes.shallow(value));
    c.lastStart = start;
    c.lastMultiplier = c.multiplier;
    c.multiplier = Math.max(enclosing, c.multiplier);
    c.step();
  }
}
