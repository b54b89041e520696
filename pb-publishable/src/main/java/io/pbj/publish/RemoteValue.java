package io.pbj.publish;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;

/**
 * A {@link RemotePublished} whose state is a registered value (a record registered with {@link
 * io.pbj.PbRegistry.Builder#register}) rather than bytes: the server's {@link
 * Publishable#publishedState} returns the value, and the client's store keeps pb-core's encoding
 * of it ({@link io.pbj.PbCodec}), under a format derived from the record's shape, so a changed
 * record is never decoded from an old snapshot. No codec to write.
 *
 * <p>Deltas ({@link Publishable#republishDelta}) run a public {@link io.pbj.Remote @Remote} method
 * of the subclass, which computes the new value from {@link #value()} and passes it to {@link
 * #update}; the new value is then written to the store at the delta's version.
 *
 * <pre>{@code
 * public record ChunkState(int x, int y, byte[] tiles) {}          // registered on both sides
 *
 * public final class RemoteChunk extends RemoteValue<ChunkState> {
 *   @Remote
 *   public void setTile(int index, byte terrain) {                  // the server's delta
 *     byte[] tiles = value().tiles().clone();
 *     tiles[index] = terrain;
 *     update(new ChunkState(value().x(), value().y(), tiles));
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe. {@link #value()} may be read from any thread; values are
 * replaced, never mutated, so keep them immutable (records of immutable parts, or arrays you
 * never change after {@link #update}). Delta methods and {@link #applied} run one at a time on the
 * client's executor.
 *
 * @param <S> the registered value type of the state
 */
public abstract class RemoteValue<S> extends RemotePublished {
  private final Class<?> valueType = valueTypeOf(getClass());
  private volatile S value;

  protected RemoteValue() {}

  /** The state applied now; null before activation. */
  public final S value() {
    return value;
  }

  /**
   * Replaces the value: call it from a delta method with the value the delta produces. Runs
   * {@link #applied}.
   */
  protected final void update(S newValue) {
    S old = value;
    value = java.util.Objects.requireNonNull(newValue, "newValue");
    try {
      applied(old, newValue);
    } catch (RuntimeException e) {
      value = old;    // refused: the value held stays
      throw e;
    }
  }

  /**
   * Runs after each new value (the first, a whole state pushed, or {@link #update}); {@code old}
   * is null the first time. Throwing refuses the value, as {@link
   * RemotePublished#applyPublishedState} does. Default: nothing.
   */
  protected void applied(S old, S now) {}

  /** A stored snapshot: pb-core's encoding of the value, decoded with the connection's codec. */
  @Override
  protected final void applyPublishedState(byte[] state, int formatVersion) {
    set(connection().codec().decode(state, valueType));
  }

  @Override
  final void applyWire(Object state, int format) {
    if (state instanceof byte[]) {
      throw new IllegalArgumentException(getClass().getName() + " received a byte[] state: the"
          + " server's publishedState returns bytes, so the client class must be a"
          + " RemotePublished that decodes them, not a RemoteValue");
    }
    if (state instanceof io.pbj.publish.internal.EncodedState e) {
      applyPublishedState(e.bytes(), format);    // decoded once; the store keeps these bytes
      return;
    }
    set(state);
  }

  @SuppressWarnings("unchecked")
  private void set(Object state) {
    if (!valueType.isInstance(state)) {
      throw new IllegalArgumentException(getClass().getName() + " expects a "
          + valueType.getName() + " state, got "
          + (state == null ? "null" : state.getClass().getName()));
    }
    update((S) state);
  }

  @Override
  final Object currentValue() {
    return value;
  }

  /**
   * The class of {@code S} as the subclass binds it, through any generic classes between.
   *
   * @throws IllegalStateException naming the class when it does not bind {@code S} to a class
   *     (a raw or still generic subclass), since any value would then be taken for its state
   */
  private static Class<?> valueTypeOf(Class<?> type) {
    Class<?> raw = com.google.common.reflect.TypeToken.of(type)
        .resolveType(RemoteValue.class.getTypeParameters()[0]).getRawType();
    if (raw == Object.class) {
      throw new IllegalStateException(type.getName() + " extends RemoteValue without binding its"
          + " state type to a class: declare it as extends RemoteValue<YourStateRecord>");
    }
    return raw;
  }
}
