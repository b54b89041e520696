package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.ClassResolver;
import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.util.Generics;
import java.lang.reflect.TypeVariable;

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
  /** The map about to ask for its type arguments (see {@link #readingMap}), or null. */
  private String mapReading;
  /** What {@link #getGenerics()} answers while {@link #mapReading} is set; made on first use. */
  private MapGenerics mapGenerics;

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
    mapReading = null;
    reset();
    resetGenerics();
  }

  /**
   * Forgets the type arguments of generic fields that Kryo still holds. Kryo pushes them as it
   * reads or writes such a field and pops them after, but not when the value fails in between,
   * and {@link #reset()} leaves them: the next message would read or write its values with this
   * one's type arguments (a map taking a list's one argument fails; a list taking a final class
   * for its elements reads them without their class ids). Called after every decode, and after
   * an encode that failed; a fresh stack costs three small arrays.
   */
  void resetGenerics() {
    setOptimizedGenerics(true);
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

  /**
   * Says that the map serializer about to read a {@code name} will ask for its key and value
   * types next, or (null) that it has finished. Kryo's map serializer takes them from the
   * declared type of the field being read, and fails with an {@code
   * ArrayIndexOutOfBoundsException} when that type has a single type argument: a peer can send a
   * map where a {@code List<T>} field is declared. The map cannot be assigned there anyway; it is
   * refused with a {@link KryoException} that says so instead.
   */
  static void readingMap(Kryo kryo, String name) {
    if (kryo instanceof PbKryo k) {
      k.mapReading = name;
    }
  }

  @Override
  public Generics getGenerics() {
    if (mapReading == null) {
      return super.getGenerics();
    }
    if (mapGenerics == null) {
      mapGenerics = new MapGenerics();
    }
    return mapGenerics;
  }

  /** Kryo's own generics, with the check of {@link #readingMap} on the map's first question. */
  @SuppressWarnings("rawtypes") // Kryo's interface
  private final class MapGenerics implements Generics {
    private Generics kryos() {
      return PbKryo.super.getGenerics();
    }

    @Override
    public GenericType[] nextGenericTypes() {
      GenericType[] types = kryos().nextGenericTypes();
      String map = mapReading;
      mapReading = null;
      if (types != null && types.length < 2) {
        throw new KryoException(
            "a " + map + " was sent where the receiving field's declared type has "
                + types.length + " type argument; a map does not fit there");
      }
      return types;
    }

    @Override
    public GenericsHierarchy buildHierarchy(Class type) {
      return kryos().buildHierarchy(type);
    }

    @Override
    public void pushGenericType(GenericType fieldType) {
      kryos().pushGenericType(fieldType);
    }

    @Override
    public void popGenericType() {
      kryos().popGenericType();
    }

    @Override
    public Class nextGenericClass() {
      return kryos().nextGenericClass();
    }

    @Override
    public int pushTypeVariables(GenericsHierarchy hierarchy, GenericType[] args) {
      return kryos().pushTypeVariables(hierarchy, args);
    }

    @Override
    public void popTypeVariables(int count) {
      kryos().popTypeVariables(count);
    }

    @Override
    public Class resolveTypeVariable(TypeVariable typeVariable) {
      return kryos().resolveTypeVariable(typeVariable);
    }

    @Override
    public int getGenericTypesSize() {
      return kryos().getGenericTypesSize();
    }
  }

  @Override
  public Object readClassAndObject(Input input) {
    DecodeContext c = context;
    if (c == null) {
      return super.readClassAndObject(input);
    }
    int start = input.position();
    long enclosing = begin(c);
    return completed(c, super.readClassAndObject(input), start, enclosing);
  }

  @Override
  public <T> T readObject(Input input, Class<T> type) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObject(input, type);
    }
    int start = input.position();
    long enclosing = begin(c);
    return completed(c, super.readObject(input, type), start, enclosing);
  }

  @Override
  public <T> T readObject(Input input, Class<T> type, Serializer serializer) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObject(input, type, serializer);
    }
    int start = input.position();
    long enclosing = begin(c);
    return completed(c, super.readObject(input, type, serializer), start, enclosing);
  }

  @Override
  public <T> T readObjectOrNull(Input input, Class<T> type) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObjectOrNull(input, type);
    }
    int start = input.position();
    long enclosing = begin(c);
    return completed(c, super.readObjectOrNull(input, type), start, enclosing);
  }

  @Override
  public <T> T readObjectOrNull(Input input, Class<T> type, Serializer serializer) {
    DecodeContext c = context;
    if (c == null) {
      return super.readObjectOrNull(input, type, serializer);
    }
    int start = input.position();
    long enclosing = begin(c);
    return completed(c, super.readObjectOrNull(input, type, serializer), start, enclosing);
  }

  /** A value starts: its own elements count from 1; returns the enclosing value's multiplier. */
  private static long begin(DecodeContext c) {
    long enclosing = c.multiplier;
    c.multiplier = 1;
    return enclosing;
  }

  /** A value is read: charges its shallow size and hands the multiplier back to the enclosing. */
  private static <T> T completed(DecodeContext c, T value, int start, long enclosing) {
    c.allocate(HeapSizes.shallow(value));
    c.lastStart = start;
    c.lastMultiplier = c.multiplier;
    c.multiplier = Math.max(enclosing, c.multiplier);
    c.step();
    return value;
  }
}
