package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.Registration;
import com.esotericsoftware.kryo.kryo5.Serializer;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.objenesis.strategy.StdInstantiatorStrategy;
import com.esotericsoftware.kryo.kryo5.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.kryo5.serializers.MapSerializer;
import com.esotericsoftware.kryo.kryo5.util.DefaultClassResolver;
import com.esotericsoftware.kryo.kryo5.util.DefaultInstantiatorStrategy;
import io.pbj.Cacheable;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.RemoteCache;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.IntFunction;
import java.util.function.IntToLongFunction;

/**
 * Builds the Kryo instances of one connection (one decoding Kryo per channel, and the pooled
 * encoding Kryos of its {@link ReferenceWriter}): registration required, no class names accepted
 * from the wire, every length checked against the bytes that remain before anything is
 * allocated, nesting depth bounded, hash-based containers built within the message's probe
 * budget ({@link HashBuild}), and references (of both kinds) written through the connection's
 * {@link ReferenceCodec}. The budgets of the message being decoded live in its {@link
 * DecodeContext}, which the serializers reach through {@link PbKryo#contextOf}.
 *
 * <p>Thread-safety: stateless; each Kryo it builds is used by one thread at a time: the decoding
 * one by whichever thread decodes the channel's current message (the event loop, or the decode
 * pool for a large one, see {@link MessageCodec}), an encoding one by the sending thread that
 * took it from the pool.
 */
final class KryoSetup {
  private KryoSetup() {}

  /** Writes and reads references on behalf of one connection. */
  interface ReferenceCodec {
    void write(Kryo kryo, Output output, Object value);

    Object read(Kryo kryo, Input input);
  }

  /** Marker type whose registration carries references. */
  static final class ReferenceMarker {
    private ReferenceMarker() {}
  }

  /** Id of the reference marker; built-ins follow it. */
  static final int REFERENCE_ID = 10;

  /** Built-in classes, from id 11 up, in this exact order (docs/PROTOCOL.md lists them). */
  static final List<Class<?>> BUILTINS =
      List.of(
          byte[].class,
          int[].class,
          long[].class,
          double[].class,
          boolean[].class,
          String[].class,
          Object[].class,
          ArrayList.class,
          LinkedList.class,
          HashSet.class,
          LinkedHashSet.class,
          HashMap.class,
          LinkedHashMap.class,
          TreeMap.class,
          List.of().getClass(),
          List.of(1).getClass(),
          List.of(1, 2, 3).getClass(),
          Set.of().getClass(),
          Set.of(1).getClass(),
          Set.of(1, 2, 3).getClass(),
          Map.of().getClass(),
          Map.of(1, 1).getClass(),
          Map.of(1, 1, 2, 2).getClass(),
          Arrays.asList(1).getClass(),
          Collections.emptyList().getClass(),
          Collections.emptySet().getClass(),
          Collections.emptyMap().getClass(),
          Collections.singletonList(1).getClass(),
          Collections.unmodifiableList(new ArrayList<>()).getClass(),
          Collections.unmodifiableList(new LinkedList<>()).getClass(),
          Collections.unmodifiableSet(new HashSet<>()).getClass(),
          Collections.unmodifiableMap(new HashMap<>()).getClass(),
          UUID.class,
          Instant.class,
          Duration.class);

  /** Creates a Kryo that checks no peer's registry (for values outside a connection). */
  static PbKryo create(PbRegistry registry, int maxDepth, ReferenceCodec references) {
    return create(registry, maxDepth, references, null);
  }

  /**
   * Creates a Kryo for one connection, refusing to write or read values of types the peer does
   * not share ({@code peer}: null for none).
   */
  static PbKryo create(
      PbRegistry registry, int maxDepth, ReferenceCodec references, PeerRegistry peer) {
    PbClassResolver resolver = new PbClassResolver(references, peer);
    PbKryo kryo = new PbKryo(resolver);
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    kryo.setMaxDepth(maxDepth);
    kryo.setInstantiatorStrategy(new DefaultInstantiatorStrategy(new StdInstantiatorStrategy()));
    kryo.register(String.class, new StringSerializer(), 1);

    Registration refs =
        kryo.register(ReferenceMarker.class, new ReferenceSerializer(references), REFERENCE_ID);
    resolver.referenceRegistration = refs;

    int id = REFERENCE_ID + 1;
    for (Class<?> type : BUILTINS) {
      kryo.register(type, builtinSerializer(kryo, type), id++);
    }
    for (Map.Entry<Integer, Class<?>> e : registry.valueTypes().entrySet()) {
      Serializer<?> bounded = boundedForRegistered(kryo, e.getValue());
      if (bounded != null) {
        kryo.register(e.getValue(), bounded, e.getKey());
      } else {
        kryo.register(e.getValue(), e.getKey());
      }
    }
    return kryo;
  }

  /**
   * An application-registered collection or map that Kryo would serialize with its generic
   * {@code CollectionSerializer} or {@code MapSerializer} gets the bounded subclass instead (the
   * same bytes on the wire): its length is checked before it is created, and a set or an unsorted
   * map is built within the probe budget. Types with a serializer of their own in Kryo (a
   * {@code TreeSet} with its comparator, an {@code EnumSet}, ...) keep it. An array type keeps
   * Kryo's serializer, with its length checked and charged first ({@link BoundedArraySerializer}).
   * Null for other types.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static Serializer<?> boundedForRegistered(Kryo kryo, Class<?> type) {
    if (type.isArray()) {
      return new BoundedArraySerializer(kryo.getDefaultSerializer(type), type);
    }
    if (!Collection.class.isAssignableFrom(type) && !Map.class.isAssignableFrom(type)) {
      return null;
    }
    Serializer<?> standard = kryo.getDefaultSerializer(type);
    String name = type.getSimpleName();
    if (standard.getClass() == CollectionSerializer.class) {
      boolean set = Set.class.isAssignableFrom(type);
      return new BoundedCollectionSerializer(
          n -> (Collection) kryo.newInstance(type),
          n -> set ? HeapSizes.hashSet(n, true) : HeapSizes.linkedList(n),
          set,
          name);
    }
    if (standard.getClass() == MapSerializer.class) {
      boolean sorted = SortedMap.class.isAssignableFrom(type);
      return new BoundedMapSerializer(
          n -> (Map) kryo.newInstance(type),
          n -> sorted ? HeapSizes.treeMap(n) : HeapSizes.hashMap(n, true),
          !sorted,
          name);
    }
    return null;
  }

  /** The capacity that holds {@code n} entries in a JDK hash table without resizing. */
  static int hashCapacity(int n) {
    return (int) Math.min(Integer.MAX_VALUE, (long) Math.ceil(n / 0.75) + 1);
  }

  /**
   * The wire names of every registered id at or above {@link #REFERENCE_ID}: class names for the
   * built-ins, then the registry's names (stable names, or class names for positional ids).
   */
  static Map<Integer, String> describe(PbRegistry registry) {
    Map<Integer, String> names = new TreeMap<>();
    names.put(REFERENCE_ID, ReferenceMarker.class.getName());
    int id = REFERENCE_ID + 1;
    for (Class<?> type : BUILTINS) {
      names.put(id++, type.getName());
    }
    names.putAll(registry.names());
    return names;
  }

  /**
   * The format fingerprint of every value type of {@code registry} that has one ({@link
   * ValueFormat}); caches have none (their states are value types of their own).
   */
  static Map<Integer, Integer> formats(PbRegistry registry) {
    Map<Integer, Integer> formats = new TreeMap<>();
    io.pbj.PbCodec codec = io.pbj.PbCodec.of(registry); // caches each fingerprint
    registry.valueTypes().forEach(
        (id, type) -> {
          try {
            formats.put(id, codec.formatOf(type));
          } catch (IllegalArgumentException e) {
            // no shape of its own (a registered built-in container): nothing to compare
          }
        });
    return formats;
  }

  /** The HELLO a side with {@code registry} sends, speaking versions {@code min} to {@code max}. */
  static Message.Hello hello(PbRegistry registry, int min, int max) {
    Map<Integer, String> names = describe(registry);
    Map<Integer, Integer> formats = formats(registry);
    List<Integer> ids = List.copyOf(names.keySet());
    List<Integer> fingerprints = new ArrayList<>(ids.size());
    for (int id : ids) {
      fingerprints.add(formats.getOrDefault(id, 0));
    }
    return new Message.Hello(ids, List.copyOf(names.values()), fingerprints, min, max);
  }

  private static Serializer<?> builtinSerializer(Kryo kryo, Class<?> type) {
    if (type == byte[].class) {
      return new ByteArraySerializer();
    }
    if (type == int[].class) {
      return new IntArraySerializer();
    }
    if (type == long[].class) {
      return new LongArraySerializer();
    }
    if (type == double[].class) {
      return new DoubleArraySerializer();
    }
    if (type == boolean[].class) {
      return new BooleanArraySerializer();
    }
    if (type == String[].class || type == Object[].class) {
      return new ObjectArraySerializer(type.getComponentType());
    }
    if (type == UUID.class) {
      return new UuidSerializer();
    }
    if (type == Instant.class) {
      return new InstantSerializer();
    }
    if (type == Duration.class) {
      return new DurationSerializer();
    }
    if (type == TreeMap.class) {
      return new BoundedMapSerializer(n -> new TreeMap<>(), HeapSizes::treeMap, false, "TreeMap");
    }
    if (Map.class.isAssignableFrom(type)) {
      if (type == HashMap.class) {
        return new BoundedMapSerializer(
            n -> new HashMap<>(hashCapacity(n)), n -> HeapSizes.hashMap(n, false), true, "HashMap");
      }
      if (type == LinkedHashMap.class) {
        return new BoundedMapSerializer(
            n -> new LinkedHashMap<>(hashCapacity(n)),
            n -> HeapSizes.hashMap(n, true),
            true,
            "LinkedHashMap");
      }
      return new ImmutableMapSerializer();
    }
    if (type == ArrayList.class) {
      return new BoundedCollectionSerializer(
          ArrayList::new, HeapSizes::arrayList, false, "ArrayList");
    }
    if (type == LinkedList.class) {
      return new BoundedCollectionSerializer(
          n -> new LinkedList<>(), HeapSizes::linkedList, false, "LinkedList");
    }
    if (type == HashSet.class) {
      return new BoundedCollectionSerializer(
          n -> new HashSet<>(hashCapacity(n)), n -> HeapSizes.hashSet(n, false), true, "HashSet");
    }
    if (type == LinkedHashSet.class) {
      return new BoundedCollectionSerializer(
          n -> new LinkedHashSet<>(hashCapacity(n)),
          n -> HeapSizes.hashSet(n, true),
          true,
          "LinkedHashSet");
    }
    if (Set.class.isAssignableFrom(type)) {
      return new ImmutableCollectionSerializer(true);
    }
    return new ImmutableCollectionSerializer(false);
  }

  /**
   * Fails unless {@code length} items of at least {@code minBytes} each fit in what remains of
   * the message and of its element budget ({@link DecodeContext#checkLength}).
   */
  static void checkLength(Kryo kryo, Input input, long length, int minBytes, String what) {
    PbKryo.contextOf(kryo).checkLength(input, length, minBytes, what);
  }

  /**
   * No class names from the wire, references for any Referenceable or proxy, and (on a
   * connection) no value of an application type the peer does not share ({@link PeerRegistry}).
   */
  static final class PbClassResolver extends DefaultClassResolver {
    private final ReferenceCodec references;
    private final PeerRegistry peer;
    Registration referenceRegistration;

    PbClassResolver(ReferenceCodec references, PeerRegistry peer) {
      this.references = references;
      this.peer = peer;
    }

    @Override
    public Registration writeClass(Output output, Class type) {
      if (peer != null && type != null && peer.refusesAny()) {
        Registration r = getRegistration(type);
        if (r != null && r.getId() >= PbRegistry.FIRST_USER_ID) {
          peer.checkSend(r.getId(), "a " + type.getName());
        }
      }
      return super.writeClass(output, type);
    }

    @Override
    public Registration readClass(Input input) {
      if (peer != null) {
        int start = input.position();
        int id = input.readVarInt(true) - 2;
        input.setPosition(start);
        if (id >= PbRegistry.FIRST_USER_ID) {
          String why = peer.whyUnreadable(id, idToRegistration.get(id) != null);
          if (why != null) {
            throw new KryoException(why);
          }
        }
      }
      return super.readClass(input);
    }

    @Override
    public Registration getRegistration(Class type) {
      Registration r = super.getRegistration(type);
      if (r != null) {
        return r;
      }
      if (Referenceable.class.isAssignableFrom(type)
          || Cacheable.class.isAssignableFrom(type)
          || RemoteCache.class.isAssignableFrom(type)
          || type == RealRemoteReference.class
          || Proxy.isProxyClass(type)) {
        return referenceRegistration;
      }
      return null;
    }

    @Override
    protected Registration readName(Input input) {
      throw new KryoException("class names are not accepted on the wire; register the class");
    }
  }

  /** Strings: a varint length in bytes, then UTF-8. */
  static final class StringSerializer extends Serializer<String> {
    StringSerializer() {
      super(true, true);
    }

    @Override
    public void write(Kryo kryo, Output output, String s) {
      writeString(output, s);
    }

    @Override
    public String read(Kryo kryo, Input input, Class<? extends String> type) {
      return readString(PbKryo.contextOf(kryo), input);
    }
  }

  /** Writes a nullable string: varint (length + 1, 0 for null), then UTF-8 bytes. */
  static void writeString(Output output, String s) {
    if (s == null) {
      output.writeVarInt(0, true);
      return;
    }
    byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
    output.writeVarInt(bytes.length + 1, true);
    output.writeBytes(bytes);
  }

  /** Reads what {@link #writeString} wrote, checking the length first. */
  static String readString(DecodeContext context, Input input) {
    int n = input.readVarInt(true);
    if (n == 0) {
      return null;
    }
    int length = n - 1;
    context.checkLength(input, length, 1, "string");
    context.allocate(HeapSizes.string(length));
    if (length == 0) {
      return "";
    }
    byte[] buffer = input.getBuffer();
    int position = input.position();
    String s = new String(buffer, position, length, StandardCharsets.UTF_8);
    input.setPosition(position + length);
    return s;
  }

  private static int readArrayLength(Kryo kryo, Input input, int minBytes, String what) {
    int length = input.readVarInt(true);
    checkLength(kryo, input, length, minBytes, what);
    return length;
  }

  /** Reads an array's length, checks it and charges the array of that many elements. */
  private static int readArray(
      Kryo kryo, Input input, int minBytes, int elementBytes, String what) {
    int length = readArrayLength(kryo, input, minBytes, what);
    PbKryo.contextOf(kryo).allocate(HeapSizes.array(length, elementBytes));
    return length;
  }

  static final class ByteArraySerializer extends Serializer<byte[]> {
    ByteArraySerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, byte[] a) {
      output.writeVarInt(a.length, true);
      output.writeBytes(a);
    }

    @Override
    public byte[] read(Kryo kryo, Input input, Class<? extends byte[]> type) {
      return input.readBytes(readArray(kryo, input, 1, 1, "byte[]"));
    }
  }

  static final class IntArraySerializer extends Serializer<int[]> {
    IntArraySerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, int[] a) {
      output.writeVarInt(a.length, true);
      output.writeInts(a, 0, a.length, false);
    }

    @Override
    public int[] read(Kryo kryo, Input input, Class<? extends int[]> type) {
      int n = readArray(kryo, input, 1, 4, "int[]");
      return input.readInts(n, false);
    }
  }

  static final class LongArraySerializer extends Serializer<long[]> {
    LongArraySerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, long[] a) {
      output.writeVarInt(a.length, true);
      output.writeLongs(a, 0, a.length, false);
    }

    @Override
    public long[] read(Kryo kryo, Input input, Class<? extends long[]> type) {
      int n = readArray(kryo, input, 1, 8, "long[]");
      return input.readLongs(n, false);
    }
  }

  static final class DoubleArraySerializer extends Serializer<double[]> {
    DoubleArraySerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, double[] a) {
      output.writeVarInt(a.length, true);
      output.writeDoubles(a, 0, a.length);
    }

    @Override
    public double[] read(Kryo kryo, Input input, Class<? extends double[]> type) {
      int n = readArray(kryo, input, 8, 8, "double[]");
      return input.readDoubles(n);
    }
  }

  static final class BooleanArraySerializer extends Serializer<boolean[]> {
    BooleanArraySerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, boolean[] a) {
      output.writeVarInt(a.length, true);
      output.writeBooleans(a, 0, a.length);
    }

    @Override
    public boolean[] read(Kryo kryo, Input input, Class<? extends boolean[]> type) {
      int n = readArray(kryo, input, 1, 1, "boolean[]");
      return input.readBooleans(n);
    }
  }

  static final class ObjectArraySerializer extends Serializer<Object[]> {
    private final Class<?> componentType;

    ObjectArraySerializer(Class<?> componentType) {
      super(false, true);
      this.componentType = componentType;
    }

    @Override
    public void write(Kryo kryo, Output output, Object[] a) {
      output.writeVarInt(a.length, true);
      for (Object o : a) {
        kryo.writeClassAndObject(output, o);
      }
    }

    @Override
    public Object[] read(Kryo kryo, Input input, Class<? extends Object[]> type) {
      int n =
          readArray(kryo, input, 1, HeapSizes.REFERENCE, componentType.getSimpleName() + "[]");
      Object[] a = (Object[]) java.lang.reflect.Array.newInstance(componentType, n);
      for (int i = 0; i < n; i++) {
        Object o = kryo.readClassAndObject(input);
        if (o != null && !componentType.isInstance(o)) {
          throw new KryoException(
              "element " + i + " of a " + componentType.getName() + "[] is a "
                  + o.getClass().getName());
        }
        a[i] = o;
      }
      return a;
    }
  }

  static final class UuidSerializer extends Serializer<UUID> {
    UuidSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, UUID u) {
      output.writeLong(u.getMostSignificantBits());
      output.writeLong(u.getLeastSignificantBits());
    }

    @Override
    public UUID read(Kryo kryo, Input input, Class<? extends UUID> type) {
      return new UUID(input.readLong(), input.readLong());
    }
  }

  static final class InstantSerializer extends Serializer<Instant> {
    InstantSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, Instant t) {
      output.writeVarLong(t.getEpochSecond(), false);
      output.writeVarInt(t.getNano(), true);
    }

    @Override
    public Instant read(Kryo kryo, Input input, Class<? extends Instant> type) {
      return Instant.ofEpochSecond(input.readVarLong(false), input.readVarInt(true));
    }
  }

  static final class DurationSerializer extends Serializer<Duration> {
    DurationSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, Duration d) {
      output.writeVarLong(d.getSeconds(), false);
      output.writeVarInt(d.getNano(), true);
    }

    @Override
    public Duration read(Kryo kryo, Input input, Class<? extends Duration> type) {
      return Duration.ofSeconds(input.readVarLong(false), input.readVarInt(true));
    }
  }

  /**
   * Mutable collections: what the length makes the decoder create is charged to the allocation
   * budget before it is created; a set is staged and built within the probe budget ({@link
   * HashBuild}).
   *
   * <p>The length is not held to the bytes that remain: Kryo's {@code CollectionSerializer} writes
   * a collection whose elements are all null, or all of one type whose serializer writes nothing
   * (a record without fields), as its length and one class id, so its elements take no bytes. The
   * allocation charge bounds them instead: every element costs at least its slot (a reference in
   * an ArrayList's array or in the staging arrays of a set, a node of a LinkedList).
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static final class BoundedCollectionSerializer extends CollectionSerializer<Collection> {
    private final IntFunction<Collection> factory;
    private final IntToLongFunction heap;
    private final boolean hashed;
    private final String name;

    BoundedCollectionSerializer(
        IntFunction<Collection> factory, IntToLongFunction heap, boolean hashed, String name) {
      this.factory = factory;
      this.heap = heap;
      this.hashed = hashed;
      this.name = name;
    }

    @Override
    protected Collection create(Kryo kryo, Input input, Class type, int length) {
      DecodeContext context = PbKryo.contextOf(kryo);
      context.checkLength(input, length, 0, name); // elements may take no bytes: see above
      if (hashed && length > 0) {
        context.allocate(HeapSizes.stagedElements(length));
        return new HashBuild.StagedElements(context, input, length);
      }
      context.allocate(heap.applyAsLong(length));
      return new Filling(factory.apply(length), name);
    }

    @Override
    public Collection read(Kryo kryo, Input input, Class<? extends Collection> type) {
      Collection read = super.read(kryo, input, type);
      if (read instanceof Filling filling) {
        return filling.target;
      }
      if (!(read instanceof HashBuild.StagedElements staged)) {
        return read;
      }
      staged.check(name);
      DecodeContext context = PbKryo.contextOf(kryo);
      // What the message decodes to is the set; the staging arrays are garbage once it is built.
      context.release(HeapSizes.stagedElements(staged.items.length));
      context.allocate(heap.applyAsLong(staged.size));
      return staged.into(factory.apply(staged.size), name);
    }
  }

  /**
   * Adds {@code element} (number {@code index}) to a collection being decoded. A registered
   * collection type may refuse null ({@code ArrayDeque}, the concurrent queues) with a bare
   * NullPointerException; the peer is told which element instead.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static void addElement(Collection target, Object element, int index, String what) {
    if (element != null) {
      target.add(element);
      return;
    }
    try {
      target.add(null);
    } catch (NullPointerException e) {
      throw new KryoException("element " + index + " of a " + what + " is null, which it cannot hold");
    }
  }

  /** The collection Kryo's serializer fills, adding through {@link #addElement}. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class Filling extends java.util.AbstractCollection {
    final Collection target;
    private final String what;

    Filling(Collection target, String what) {
      this.target = target;
      this.what = what;
    }

    @Override
    public boolean add(Object element) {
      addElement(target, element, target.size(), what);
      return true;
    }

    @Override
    public java.util.Iterator iterator() {
      return target.iterator();
    }

    @Override
    public int size() {
      return target.size();
    }
  }

  /**
   * Mutable maps: the length is checked against the remaining bytes before creation; the entries
   * are staged, then a hash map is built within the probe budget ({@link HashBuild}) and a sorted
   * one refuses keys that cannot be ordered.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static final class BoundedMapSerializer extends MapSerializer<Map> {
    private final IntFunction<Map> factory;
    private final IntToLongFunction heap;
    private final boolean hashed;
    private final String name;

    BoundedMapSerializer(
        IntFunction<Map> factory, IntToLongFunction heap, boolean hashed, String name) {
      this.factory = factory;
      this.heap = heap;
      this.hashed = hashed;
      this.name = name;
    }

    @Override
    protected Map create(Kryo kryo, Input input, Class type, int length) {
      DecodeContext context = PbKryo.contextOf(kryo);
      context.checkLength(input, length, 2, name);
      if (length == 0) {
        context.allocate(heap.applyAsLong(0));
        return factory.apply(0);
      }
      return new HashBuild.StagedEntries(context, input, length);
    }

    @Override
    public Map read(Kryo kryo, Input input, Class<? extends Map> type) {
      Map read;
      PbKryo.readingMap(kryo, name);
      try {
        read = super.read(kryo, input, type);
      } finally {
        PbKryo.readingMap(kryo, null);
      }
      if (!(read instanceof HashBuild.StagedEntries staged)) {
        return read;
      }
      if (hashed) {
        staged.check(name);
      } else {
        staged.sorted();
      }
      PbKryo.contextOf(kryo).allocate(heap.applyAsLong(staged.size));
      return staged.into(factory.apply(staged.size), name);
    }
  }

  /** Immutable lists and sets: written as elements, read back as unmodifiable copies. */
  static final class ImmutableCollectionSerializer extends Serializer<Collection<?>> {
    private final boolean set;

    ImmutableCollectionSerializer(boolean set) {
      super(false, true);
      this.set = set;
    }

    @Override
    public void write(Kryo kryo, Output output, Collection<?> c) {
      output.writeVarInt(c.size(), true);
      for (Object o : c) {
        kryo.writeClassAndObject(output, o);
      }
    }

    @Override
    public Collection<?> read(Kryo kryo, Input input, Class<? extends Collection<?>> type) {
      String name = set ? "immutable set" : "immutable list";
      int n = readArrayLength(kryo, input, 1, name);
      if (n == 0) {
        return set ? Collections.emptySet() : Collections.emptyList(); // shared: no allocation
      }
      DecodeContext context = PbKryo.contextOf(kryo);
      if (set) {
        HashBuild.StagedElements staged = new HashBuild.StagedElements(context, input, n);
        for (int i = 0; i < n; i++) {
          staged.add(kryo.readClassAndObject(input));
        }
        staged.check(name);
        context.allocate(HeapSizes.UNMODIFIABLE_VIEW + HeapSizes.hashSet(n, true));
        return Collections.unmodifiableSet(staged.into(new LinkedHashSet<>(hashCapacity(n)), name));
      }
      context.allocate(HeapSizes.UNMODIFIABLE_VIEW + HeapSizes.arrayList(n));
      List<Object> l = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        l.add(kryo.readClassAndObject(input));
      }
      return Collections.unmodifiableList(l);
    }
  }

  /** Immutable maps: written as entries, read back as unmodifiable copies. */
  static final class ImmutableMapSerializer extends Serializer<Map<?, ?>> {
    ImmutableMapSerializer() {
      super(false, true);
    }

    @Override
    public void write(Kryo kryo, Output output, Map<?, ?> m) {
      output.writeVarInt(m.size(), true);
      for (Map.Entry<?, ?> e : m.entrySet()) {
        kryo.writeClassAndObject(output, e.getKey());
        kryo.writeClassAndObject(output, e.getValue());
      }
    }

    @Override
    public Map<?, ?> read(Kryo kryo, Input input, Class<? extends Map<?, ?>> type) {
      String name = "immutable map";
      int n = readArrayLength(kryo, input, 2, name);
      if (n == 0) {
        return Collections.emptyMap(); // shared: no allocation
      }
      DecodeContext context = PbKryo.contextOf(kryo);
      HashBuild.StagedEntries staged = new HashBuild.StagedEntries(context, input, n);
      for (int i = 0; i < n; i++) {
        Object key = kryo.readClassAndObject(input);
        staged.put(key, kryo.readClassAndObject(input));
      }
      staged.check(name);
      context.allocate(HeapSizes.UNMODIFIABLE_VIEW + HeapSizes.hashMap(n, true));
      return Collections.unmodifiableMap(staged.into(new LinkedHashMap<>(hashCapacity(n)), name));
    }
  }

  /**
   * An application-registered array type ({@code Point[]}, {@code float[]}, {@code int[][]}):
   * Kryo's serializer, so the same bytes on the wire, but the length it claims is checked against
   * the bytes left and charged to the allocation budget before Kryo creates an array of that
   * length (Kryo creates it before reading a single element). Kryo writes the length plus one, 0
   * for null; every element takes at least one byte.
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static final class BoundedArraySerializer extends Serializer {
    private final Serializer kryos;
    private final int elementBytes;
    private final String name;

    BoundedArraySerializer(Serializer kryos, Class<?> type) {
      super(kryos.getAcceptsNull(), kryos.isImmutable());
      this.kryos = kryos;
      Class<?> c = type.getComponentType();
      this.elementBytes =
          !c.isPrimitive() ? HeapSizes.REFERENCE
              : c == long.class || c == double.class ? 8
              : c == int.class || c == float.class ? 4
              : c == short.class || c == char.class ? 2
              : 1;
      this.name = type.getSimpleName();
    }

    @Override
    public void write(Kryo kryo, Output output, Object array) {
      kryos.write(kryo, output, array);
    }

    @Override
    public Object read(Kryo kryo, Input input, Class type) {
      int start = input.position();
      int claimed = input.readVarInt(true);
      if (claimed != Kryo.NULL) {
        long length = claimed - 1L;
        checkLength(kryo, input, length, 1, name);
        PbKryo.contextOf(kryo).allocate(HeapSizes.array(length, elementBytes));
      }
      input.setPosition(start); // Kryo's serializer reads the length again
      return kryos.read(kryo, input, type);
    }

    @Override
    public Object copy(Kryo kryo, Object original) {
      return kryos.copy(kryo, original);
    }
  }

  /** References: delegated to the connection. */
  static final class ReferenceSerializer extends Serializer<Object> {
    private final ReferenceCodec references;

    ReferenceSerializer(ReferenceCodec references) {
      super(false, true);
      this.references = references;
    }

    @Override
    public void write(Kryo kryo, Output output, Object value) {
      references.write(kryo, output, value);
    }

    @Override
    public Object read(Kryo kryo, Input input, Class<? extends Object> type) {
      return references.read(kryo, input);
    }
  }
}
