package io.pbj.store.internal;

/**
 * Thrown inside a backend read when what the file holds cannot be right (a length beyond the
 * bytes that are there, a tag of the wrong type, a missing catalog entry). Like any other backend
 * failure it leads to quarantine; it never leaves the store. Immutable; thread-safe.
 */
final class DamagedFileException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  DamagedFileException(String message) {
    super(message);
  }
}
