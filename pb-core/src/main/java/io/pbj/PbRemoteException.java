package io.pbj;

/**
 * A failure thrown by application code on the other side of a connection, carried as its type
 * name and message (never as a serialized {@code Throwable}). The remote stack trace is present
 * only when the peer allows sending it.
 *
 * <p>Thread-safety: immutable after construction.
 */
public final class PbRemoteException extends PbException {
  private static final long serialVersionUID = 1L;

  private final String remoteType;
  private final String remoteMessage;
  private final String remoteStackTrace;

  public PbRemoteException(String remoteType, String remoteMessage, String remoteStackTrace) {
    super(
        Code.REMOTE_FAILURE,
        remoteType + (remoteMessage == null ? "" : ": " + remoteMessage),
        null);
    this.remoteType = remoteType;
    this.remoteMessage = remoteMessage;
    this.remoteStackTrace = remoteStackTrace;
  }

  /** The fully qualified class name of the remote exception. */
  public String remoteType() {
    return remoteType;
  }

  /** The remote exception's message; may be null. */
  public String remoteMessage() {
    return remoteMessage;
  }

  /** The remote stack trace as text, or null when the peer does not send stack traces. */
  public String remoteStackTrace() {
    return remoteStackTrace;
  }
}
