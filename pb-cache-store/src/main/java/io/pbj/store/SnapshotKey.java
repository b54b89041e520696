package io.pbj.store;

/**
 * Identifies one cached snapshot: the object {@code identity} published by {@code server} on
 * {@code service}, as seen through {@code perspective}.
 *
 * <p>Immutable and thread-safe. Every part must be non-null and must not contain the NUL
 * character ({@code '\u0000'}), which the store uses as its separator; the first three parts
 * must also be non-empty. The identity may be empty.
 *
 * <pre>{@code
 * SnapshotKey key = new SnapshotKey("pb://hub:7000", "world", "guest", "room-17");
 * SnapshotPrefix inventory = key.prefix(); // everything for hub/world/guest
 * }</pre>
 */
public record SnapshotKey(String server, String service, String perspective, String identity) {

  /** Validates the parts; see the class comment for the rules. */
  public SnapshotKey {
    requirePart("server", server, false);
    requirePart("service", service, false);
    requirePart("perspective", perspective, false);
    requirePart("identity", identity, true);
  }

  /** The server/service/perspective prefix this key belongs to. */
  public SnapshotPrefix prefix() {
    return SnapshotPrefix.of(server, service, perspective);
  }

  static void requirePart(String name, String value, boolean mayBeEmpty) {
    if (value == null) {
      throw new IllegalArgumentException("SnapshotKey." + name + " must not be null");
    }
    if (!mayBeEmpty && value.isEmpty()) {
      throw new IllegalArgumentException("SnapshotKey." + name + " must not be empty");
    }
    if (value.indexOf('\u0000') >= 0) {
      throw new IllegalArgumentException(
          "SnapshotKey." + name + " must not contain the NUL character: " + value.replace('\u0000', '?'));
    }
  }
}
