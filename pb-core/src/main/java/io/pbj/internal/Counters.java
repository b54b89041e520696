package io.pbj.internal;

import io.pbj.PbConnection;
import java.util.concurrent.atomic.LongAdder;

/**
 * What crossed one connection so far, behind {@link PbConnection#stats()}: bytes as the byte
 * counter handler sees them (below TLS, so plaintext), and whole protocol messages.
 *
 * <p>Thread-safety: thread-safe.
 */
final class Counters {
  final LongAdder bytesSent = new LongAdder();
  final LongAdder bytesReceived = new LongAdder();
  final LongAdder messagesSent = new LongAdder();
  final LongAdder messagesReceived = new LongAdder();

  PbConnection.Stats snapshot(long callsSent, long updateFailures) {
    return new PbConnection.Stats(
        bytesSent.sum(),
        bytesReceived.sum(),
        messagesSent.sum(),
        messagesReceived.sum(),
        callsSent,
        updateFailures);
  }
}
