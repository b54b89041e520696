package io.pbj.publish;

import io.pbj.PbRegistry;
import io.pbj.publish.internal.WireTypes;
import java.util.Objects;

/**
 * Registers what the publishing handshake sends, under stable names starting {@code "pbj.publish."}
 * (so it may be called at any point of the registry, in any order with the application's types).
 * Both ends call it, then register their own {@link Publishable} (server) and {@link
 * RemotePublished} (client) classes with {@link PbRegistry.Builder#registerCache(String, Class)}.
 *
 * <pre>{@code
 * PbRegistry server = Publishing.register(PbRegistry.builder())
 *     .registerCache("world.Tile", Tile.class)        // the Publishable
 *     .build();
 * PbRegistry client = Publishing.register(PbRegistry.builder())
 *     .registerCache("world.Tile", TileCache.class)   // its RemotePublished
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: stateless; the builder it is given is not thread-safe.
 */
public final class Publishing {
  private Publishing() {}

  /** Registers the handshake's value types with {@code builder} and returns it. */
  public static PbRegistry.Builder register(PbRegistry.Builder builder) {
    Objects.requireNonNull(builder, "builder");
    for (Class<?> type : WireTypes.TYPES) {
      builder.register("pbj.publish." + type.getSimpleName(), type);
    }
    return builder;
  }
}
