package io.pbj.store;

import java.util.Objects;

/**
 * A key prefix to list: everything, one server, one server/service, or one
 * server/service/perspective (the version handshake's inventory).
 *
 * <p>Immutable and thread-safe. A {@code null} part means "any"; a part may only be set if the
 * parts before it are set.
 *
 * <pre>{@code
 * for (SnapshotEntry e : store.list(SnapshotPrefix.of("hub", "world", "guest"))) {
 *   offer(e.key().identity(), e.version());
 * }
 * }</pre>
 */
public record SnapshotPrefix(String server, String service, String perspective) {

  private static final SnapshotPrefix ALL = new SnapshotPrefix(null, null, null);

  /** Validates that parts are set left to right and are valid key parts. */
  public SnapshotPrefix {
    if (server != null) {
      SnapshotKey.requirePart("server", server, false);
    }
    if (service != null) {
      if (server == null) {
        throw new IllegalArgumentException("SnapshotPrefix.service is set but server is not");
      }
      SnapshotKey.requirePart("service", service, false);
    }
    if (perspective != null) {
      if (service == null) {
        throw new IllegalArgumentException("SnapshotPrefix.perspective is set but service is not");
      }
      SnapshotKey.requirePart("perspective", perspective, false);
    }
  }

  /** Every entry in the store. */
  public static SnapshotPrefix all() {
    return ALL;
  }

  /** Every entry of one server. */
  public static SnapshotPrefix of(String server) {
    return new SnapshotPrefix(Objects.requireNonNull(server, "server"), null, null);
  }

  /** Every entry of one server and service. */
  public static SnapshotPrefix of(String server, String service) {
    return new SnapshotPrefix(
        Objects.requireNonNull(server, "server"), Objects.requireNonNull(service, "service"), null);
  }

  /** Every entry of one server, service and perspective. */
  public static SnapshotPrefix of(String server, String service, String perspective) {
    return new SnapshotPrefix(
        Objects.requireNonNull(server, "server"),
        Objects.requireNonNull(service, "service"),
        Objects.requireNonNull(perspective, "perspective"));
  }

  /** Whether {@code key} falls under this prefix. */
  public boolean matches(SnapshotKey key) {
    return (server == null || server.equals(key.server()))
        && (service == null || service.equals(key.service()))
        && (perspective == null || perspective.equals(key.perspective()));
  }
}
