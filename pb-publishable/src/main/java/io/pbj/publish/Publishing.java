package io.pbj.publish;

import io.pbj.PbRegistry;
import io.pbj.publish.internal.WireTypes;
import java.util.Objects;

/**
 * Registers what the publishing handshake sends. Both ends call it at the same point of their
 * registry (ids are given in registration order), then register their own {@link Publishable}
 * / {@link RemotePublished} pairs with {@link PbRegistry.Builder#registerCache}.
 *
 * <pre>{@code
 * PbRegistry registry = Publishing.register(PbRegistry.builder())
 *     .registerCache(Tile.class, TileCache.class)
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
      builder.register(type);
    }
    return builder;
  }
}
