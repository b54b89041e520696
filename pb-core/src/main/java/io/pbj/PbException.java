package io.pbj;

import java.util.Objects;

/**
 * The one exception family of PBJ: every failure the broker reports carries a {@link Code}.
 *
 * <p>Codes that end a whole connection ({@link Code#isConnectionWide()}) are distinguishable from
 * those that fail one call. A failure thrown by remote application code arrives as {@link
 * PbRemoteException} (code {@link Code#REMOTE_FAILURE}), unless its type was registered with
 * {@link PbRegistry.Builder#registerException}, in which case it arrives as itself.
 *
 * <p>Thread-safety: immutable after construction.
 */
public class PbException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * What went wrong. One list for every module: the broker, login, publishing and (wrapped) the
   * store.
   *
   * <p>The names travel on the wire: a failure answered to a call carries its code's name, and
   * the caller's side turns it back into this code (an unknown name, from a newer peer, arrives
   * as {@link #REMOTE_FAILURE}). So a name is never renamed or removed, only added; and a
   * code's meaning never narrows.
   */
  public enum Code {
    /** The remote method threw, or its future failed. */
    REMOTE_FAILURE(false),
    /** The remote object has no {@code @Remote} method of that name. */
    NO_SUCH_METHOD(false),
    /** Wrong number or types of arguments for the remote method. */
    BAD_ARGUMENTS(false),
    /** The answer is not of the type the caller asked for. */
    BAD_RESULT(false),
    /** A value could not be encoded or decoded (unregistered class, too deep, too large). */
    UNSERIALIZABLE(false),
    /**
     * A configured limit was exceeded (message size, references per connection, a peer that
     * reads too slowly). It fails one call, or, when the connection is closed for it, the whole
     * connection: then pending calls and close listeners get this code.
     */
    LIMIT_EXCEEDED(false),
    /** The call was cancelled. */
    CANCELLED(false),
    /** The reference was released, or its connection is gone. */
    DEAD_REFERENCE(false),
    /**
     * The object named does not exist: no such object is exported on this connection, or no
     * object is published under that identity.
     */
    NO_SUCH_OBJECT(false),
    /** The peer offers no service of that name (publishing: no such published service). */
    NO_SUCH_SERVICE(false),
    /** The peer's server id is not the one the caller expected. */
    SERVER_ID_MISMATCH(false),
    /**
     * The peer did not prove the server id it named: no proof where one is required, a signature
     * that does not verify over this exchange, a key that is not the id's, a broken or expired
     * delegation, or a proof bound to another TLS connection.
     */
    SERVER_ID_NOT_PROVEN(false),
    /**
     * Replicated objects could not be activated: their state could not be fetched, or the
     * object's own code failed to apply it. The cause says why; nothing was shown to user code.
     */
    ACTIVATION_FAILED(false),
    /** Login failed (wrong user or password, or anonymous access not allowed). */
    UNAUTHORIZED(false),
    /**
     * A {@link CallInterceptor} threw: on the calling side the call was not sent, on the called
     * side the method did not run. The message names the interceptor and the method.
     */
    INTERCEPTOR_FAILED(false),
    /** The connection was lost or closed while the call was pending. */
    CONNECTION_LOST(true),
    /** The peer could not be reached. */
    CONNECT_FAILED(true),
    /** The peer broke the protocol (bad preamble, bad frame, wrong version). */
    PROTOCOL_ERROR(true),
    /** The two sides' class registries disagree. */
    REGISTRY_MISMATCH(true),
    /** The broker was shut down. */
    SHUTDOWN(true);

    private final boolean connectionWide;

    Code(boolean connectionWide) {
      this.connectionWide = connectionWide;
    }

    /**
     * True when a failure with this code always ends the whole connection, not just one call.
     * {@link #LIMIT_EXCEEDED} is false but ends the connection when the connection was closed
     * for it.
     */
    public boolean isConnectionWide() {
      return connectionWide;
    }
  }

  private final Code code;
  private final String detail;

  public PbException(Code code, String message) {
    this(code, message, null);
  }

  public PbException(Code code, String message, Throwable cause) {
    super(Objects.requireNonNull(code, "code") + ": " + message, cause);
    this.code = code;
    this.detail = message;
  }

  /** What went wrong. */
  public Code code() {
    return code;
  }

  /**
   * {@code failure} without the wrappers futures add ({@link
   * java.util.concurrent.CompletionException}, {@link java.util.concurrent.ExecutionException}):
   * the failure itself, often a {@code PbException}.
   */
  public static Throwable unwrap(Throwable failure) {
    Throwable t = failure;
    while ((t instanceof java.util.concurrent.CompletionException
            || t instanceof java.util.concurrent.ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /** The message without the code in front of it. */
  public String detail() {
    return detail;
  }
}
