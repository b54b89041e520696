package io.pbj.store;

import java.time.Instant;
import java.util.Arrays;
import java.util.Objects;

/**
 * A stored snapshot: the publisher's {@code version} (a long compared for equality only, never
 * ordered), the time it was stored (millisecond precision), the {@code formatVersion} of the state
 * encoding (chosen by the caller, not interpreted by the store) and the state bytes.
 *
 * <p>Immutable and thread-safe: the state is copied in and copied out.
 *
 * <pre>{@code
 * store.put(key, Snapshot.of(42L, 1, kryoBytes));
 * long v = store.get(key).map(Snapshot::version).orElse(-1L);
 * }</pre>
 */
public final class Snapshot {
  private final long version;
  private final Instant storedAt;
  private final int formatVersion;
  private final byte[] state;

  private Snapshot(long version, Instant storedAt, int formatVersion, byte[] state) {
    this.version = version;
    this.storedAt = storedAt;
    this.formatVersion = formatVersion;
    this.state = state;
  }

  /** A snapshot stored now. */
  public static Snapshot of(long version, int formatVersion, byte[] state) {
    return of(version, formatVersion, Instant.now(), state);
  }

  /** A snapshot with an explicit stored-at time, truncated to milliseconds. */
  public static Snapshot of(long version, int formatVersion, Instant storedAt, byte[] state) {
    Objects.requireNonNull(storedAt, "Snapshot.storedAt");
    Objects.requireNonNull(state, "Snapshot.state");
    if (formatVersion < 0) {
      throw new IllegalArgumentException("Snapshot.formatVersion must be >= 0, was " + formatVersion);
    }
    return new Snapshot(
        version, Instant.ofEpochMilli(storedAt.toEpochMilli()), formatVersion, state.clone());
  }

  /** The publisher's version of this state. */
  public long version() {
    return version;
  }

  /** When the snapshot was stored, to the millisecond. */
  public Instant storedAt() {
    return storedAt;
  }

  /** Version of the encoding of {@link #state()}, chosen by the caller. */
  public int formatVersion() {
    return formatVersion;
  }

  /** A copy of the state bytes. */
  public byte[] state() {
    return state.clone();
  }

  /** Length of the state in bytes, without copying it. */
  public int stateSize() {
    return state.length;
  }

  /** The same snapshot with a different stored-at time. */
  public Snapshot withStoredAt(Instant when) {
    return of(version, formatVersion, when, state);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Snapshot s
        && version == s.version
        && formatVersion == s.formatVersion
        && storedAt.equals(s.storedAt)
        && Arrays.equals(state, s.state);
  }

  @Override
  public int hashCode() {
    return Objects.hash(version, formatVersion, storedAt, Arrays.hashCode(state));
  }

  @Override
  public String toString() {
    return "Snapshot{version=" + version + ", formatVersion=" + formatVersion + ", storedAt="
        + storedAt + ", stateSize=" + state.length + "}";
  }
}
