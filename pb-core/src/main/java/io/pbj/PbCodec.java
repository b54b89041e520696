package io.pbj;

import io.pbj.internal.ValueCodec;
import java.util.Objects;

/**
 * Encodes and decodes single values of a {@link PbRegistry} outside any connection, in the same
 * encoding a connection uses for them (docs/PROTOCOL.md, "Value codec"): for storing them, or
 * carrying them inside another format. Decoding is hardened as a connection's is: the bytes are
 * untrusted, every length is checked before anything is allocated, nesting is bounded, and what
 * a decode allocates and the work it does are bounded by a multiple of its input's size.
 *
 * <pre>{@code
 * PbCodec codec = PbCodec.of(registry);             // or connection.codec()
 * byte[] b = codec.encode(new Position(1, 2));
 * Position p = codec.decode(b, Position.class);
 * int format = codec.formatOf(Position.class);      // store it with b; compare before decoding
 * }</pre>
 *
 * <p>What encodes: null, the built-in types a connection carries (strings, boxed primitives,
 * primitive arrays, the usual lists, sets and maps, {@code UUID}, {@code Instant}, {@code
 * Duration}) and registered value types, nested in each other. References ({@link
 * Referenceable}, {@link Cacheable}, {@link RemoteCache}, {@link RemoteReference}) never encode:
 * they mean something only on the connection they were sent over.
 *
 * <p>Failures: {@link #encode} throws {@link IllegalArgumentException} (the value is the
 * caller's), {@link #decode} throws {@link PbException} with {@link PbException.Code#BAD_ARGUMENTS}
 * for every kind of bad input (the bytes may come from anywhere), with a message that says what
 * was wrong.
 *
 * <p>Thread-safety: thread-safe; any number of threads may encode and decode at once.
 */
public final class PbCodec {
  private final ValueCodec codec;

  private PbCodec(ValueCodec codec) {
    this.codec = codec;
  }

  /**
   * The codec of {@code registry}, with the default limit (the default largest message, 64 MiB).
   * One instance per registry: asking again gives the same one.
   */
  public static PbCodec of(PbRegistry registry) {
    Objects.requireNonNull(registry, "registry");
    PbCodec c = registry.codec;
    if (c == null) {
      c = new PbCodec(new ValueCodec(registry, ValueCodec.defaultMaxBytes()));
      registry.codec = c; // a race makes two equal codecs, one of which is dropped
    }
    return c;
  }

  /**
   * A codec of {@code registry} that encodes and decodes at most {@code maxBytes} bytes.
   *
   * @throws IllegalArgumentException if {@code maxBytes} is below 1
   */
  public static PbCodec of(PbRegistry registry, int maxBytes) {
    Objects.requireNonNull(registry, "registry");
    return new PbCodec(new ValueCodec(registry, maxBytes));
  }

  /** The registry whose types this codec encodes. */
  public PbRegistry registry() {
    return codec.registry();
  }

  /** The largest input {@link #decode} accepts, and the largest encoding {@link #encode} makes. */
  public int maxDecodedBytes() {
    return codec.maxBytes();
  }

  /**
   * The bytes of {@code value}.
   *
   * @param value null, a built-in value or a registered value type
   * @throws IllegalArgumentException if {@code value} is or holds a reference or an unregistered
   *     class (the message names the class), or its encoding is larger than {@link
   *     #maxDecodedBytes()}
   */
  public byte[] encode(Object value) {
    return codec.encode(value);
  }

  /**
   * The value in {@code bytes}, which must be one whole value of {@code type} (or null, unless
   * {@code type} is primitive). A primitive {@code type} reads its boxed value.
   *
   * @throws PbException with {@link PbException.Code#BAD_ARGUMENTS} if the bytes are more than
   *     {@link #maxDecodedBytes()}, are broken or truncated, have bytes after the value, hold a
   *     reference or a value of another type, or would take more memory or work to decode than
   *     their size allows; the message names the problem
   */
  public <T> T decode(byte[] bytes, Class<T> type) {
    return codec.decode(bytes, type);
  }

  /**
   * A fingerprint of {@code type}'s shape as this codec's registry sees it: positive, the same in
   * every JVM and every run, and (with overwhelming probability) different when the shape
   * changes. The shape is the type's stable name (for a type registered by name; the Java class
   * name does not count, so the class may move) or its registration id and class name (for a
   * positional one), and, for a record, each component's name and declared type (with its type
   * arguments), recursively through the registered value types these name. Connections compare
   * it too: a value type whose shape differs between the two sides does not cross (see {@code
   * docs/COMPATIBILITY.md}). Store it beside encoded values as their format version,
   * so that a value stored under an older shape is never decoded as the new one. docs/PROTOCOL.md
   * gives the algorithm.
   *
   * <p>A string, a boxed primitive, a primitive array other than {@code byte[]}, {@code String[]},
   * {@code UUID}, {@code Instant} and {@code Duration} have a fixed shape and a fingerprint too.
   *
   * @throws IllegalArgumentException for {@code byte[]} (bytes have no shape: their format is the
   *     application's), for a built-in container (its elements' types are not part of its class),
   *     and for a class not registered in this registry (the message names it)
   */
  public int formatOf(Class<?> type) {
    return codec.formatOf(type);
  }

  @Override
  public String toString() {
    return "PbCodec[" + codec.registry() + ", max " + codec.maxBytes() + " bytes]";
  }
}
