package io.pbj.publish;

import java.util.Objects;

/**
 * A publishing failure: the handshake could not activate objects, or the peer is not who the
 * client expected. {@link #code()} says which kind; the message names the server, service or
 * identity involved; the cause, when there is one, is the underlying failure (a lost connection
 * arrives as its {@code PbException}).
 *
 * <pre>{@code
 * client.attach(endpoint, "world").exceptionally(e -> {
 *   if (e.getCause() instanceof PublishException p
 *       && p.code() == PublishException.Code.SERVER_ID_MISMATCH) { ... wrong server ... }
 *   return null;
 * });
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class PublishException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What went wrong. */
  public enum Code {
    /** The server's id is not the one the client expected. */
    SERVER_ID_MISMATCH,
    /**
     * The server did not prove the id it named: no proof (and unproven ids are not allowed), a
     * signature that does not verify over this attach's nonce, a public key that is not the
     * id's, a broken or expired relay delegation, or a TLS binding of another connection.
     */
    SERVER_ID_NOT_PROVEN,
    /** The server does not offer the service the client asked for. */
    NO_SUCH_SERVICE,
    /** The service publishes no object with an identity the client asked for. */
    NO_SUCH_OBJECT,
    /** The server could not be reached, or the connection to it failed before an answer. */
    UNREACHABLE,
    /** Fetching stale state failed (the cause says why); the objects were not activated. */
    FETCH_FAILED,
    /** The server answered something the handshake does not allow (a missing object, bad key). */
    PROTOCOL,
    /** The object's own code failed to apply a state. */
    APPLY_FAILED
  }

  private final Code code;

  public PublishException(Code code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  public PublishException(Code code, String message) {
    this(code, message, null);
  }

  /** The kind of failure. */
  public Code code() {
    return code;
  }
}
