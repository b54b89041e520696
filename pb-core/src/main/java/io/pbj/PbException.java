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

  /** What went wrong. */
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
    /** The object named by a call is not exported on this connection. */
    NO_SUCH_OBJECT(false),
    /** Login failed (wrong user or password, or anonymous access not allowed). */
    UNAUTHORIZED(false),
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

  /** The message without the code in front of it. */
  public String detail() {
    return detail;
  }
}
