package io.pbj;

import java.net.SocketAddress;
import java.util.function.Consumer;

/**
 * One connection between two brokers, seen from one end.
 *
 * <p>Each connection has its own tables of exported and imported objects, so an object reachable
 * on one connection is not reachable on another unless it was sent there too.
 *
 * <p>Thread-safety: safe for use by any number of threads.
 */
public interface PbConnection {

  /** The peer's address: a socket address for TCP, a local address for the in-process transport. */
  SocketAddress remoteAddress();

  /** True until the connection is closed, by either side or by an error. */
  boolean isOpen();

  /**
   * Runs {@code listener} on the connection's executor when the connection closes, with the cause
   * ({@link PbException.Code#CONNECTION_LOST} for an ordinary close). Runs at once if the
   * connection is already closed.
   */
  void onClose(Consumer<PbException> listener);

  /** Says goodbye to the peer and closes the connection. Pending calls fail. Idempotent. */
  void close();

  /** Counters of what crossed this connection so far. */
  Stats stats();

  /**
   * The codec of this connection's registry ({@link PbCodec#of(PbRegistry)}): its values in the
   * encoding this connection uses, outside any message. The same instance for every connection
   * with the same registry.
   */
  PbCodec codec();

  /** Number of local objects currently exported to the peer (the root included). */
  int exportedCount();

  /** Number of remote objects the peer exported to us that we still hold references to. */
  int importedCount();

  /**
   * The SHA-256 of the TLS certificate the server end of this connection presents (the leaf of
   * its chain), as 64 lower-case hex digits: the same value at both ends (a client sees its
   * peer's certificate, a server its own), and {@link PbServer#tlsFingerprint()} on the server.
   * Null when the connection does not use TLS. A protocol above the broker can bind a signature
   * to it, so that a man in the middle, who must present another certificate, cannot reuse it.
   *
   * @throws IllegalStateException if the connection uses TLS but its handshake has not completed
   *     (never the case once the connection is ready for calls)
   */
  default String tlsServerCertificateSha256() {
    return null;
  }

  /**
   * A snapshot of a connection's counters. Bytes are the protocol's bytes, framing included:
   * on a plaintext connection what crosses the wire, under TLS the plaintext inside it (TLS
   * records add their own overhead, not counted here). Messages are whole protocol messages (a
   * chunked message counts once).
   *
   * @param bytesSent protocol bytes written (the preamble, frames and their headers)
   * @param bytesReceived protocol bytes read
   * @param messagesSent protocol messages written
   * @param messagesReceived protocol messages read
   * @param callsSent calls (answered and one-way) made from this end
   * @param updateFailures pushes from this end's Cacheables that the peer reported as failed
   *     ({@link UpdateFailure}); a peer reports at most one per push
   */
  record Stats(
      long bytesSent,
      long bytesReceived,
      long messagesSent,
      long messagesReceived,
      long callsSent,
      long updateFailures) {

    /** Counters without update failures (none reported). */
    public Stats(
        long bytesSent,
        long bytesReceived,
        long messagesSent,
        long messagesReceived,
        long callsSent) {
      this(bytesSent, bytesReceived, messagesSent, messagesReceived, callsSent, 0);
    }
  }
}
