package io.pbj.store;

import java.util.Objects;

/**
 * The one exception the store throws for store-level failures; {@link #reason()} says which
 * kind. Argument errors (a bad key, a bad builder option) are {@link IllegalArgumentException}
 * or {@link IllegalStateException} instead. A backend's own exception (MapDB, H2, Kotlin) never
 * leaves the store except as the {@link #getCause() cause} of one of these.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * try {
 *   store = SnapshotStore.builder().path(p).build();
 * } catch (StoreException e) {
 *   if (e.reason() == StoreException.Reason.IN_USE) { ... another process owns the cache ... }
 * }
 * }</pre>
 */
public final class StoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Reason {
    /** Another process (or another store in this process) holds the store's lock. */
    IN_USE,
    /**
     * The file is damaged (at open, or when a later read met damage) or is not a PBJ store, and
     * quarantine was turned off. With quarantine on, damage is never thrown.
     */
    DAMAGED,
    /** The file was written by a newer store format than this code reads. */
    UNSUPPORTED_FORMAT,
    /** The store file does not exist and creating it was turned off. */
    NOT_FOUND,
    /** The store has been closed. */
    CLOSED,
    /** An I/O error from the file system or the backend. */
    IO
  }

  private final Reason reason;

  public StoreException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  public StoreException(Reason reason, String message) {
    this(reason, message, null);
  }

  /** The kind of failure. */
  public Reason reason() {
    return reason;
  }
}
