package io.pbj.publish;

import io.pbj.PbException;

/**
 * A publishing failure: the handshake could not activate objects, or the peer is not who the
 * client expected. {@link #code()} says which kind; the message names the server, service or
 * identity involved; the cause, when there is one, is the underlying failure (a lost connection
 * arrives as its {@code PbException}).
 *
 * <pre>{@code
 * client.attach(endpoint, "world").exceptionally(e -> {
 *   if (e.getCause() instanceof PublishException p
 *       && p.code() == PbException.Code.SERVER_ID_MISMATCH) { ... wrong server ... }
 *   return null;
 * });
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class PublishException extends PbException {
  private static final long serialVersionUID = 1L;

  public PublishException(Code code, String message, Throwable cause) {
    super(code, message, cause);
  }

  public PublishException(Code code, String message) {
    this(code, message, null);
  }
}
