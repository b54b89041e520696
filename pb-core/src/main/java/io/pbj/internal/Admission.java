package io.pbj.internal;

/**
 * What one server shares among its connections to enforce {@link ServerLimits}: the {@link
 * InboundBudget}.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Admission {
  private final ServerLimits limits;
  private final InboundBudget budget;

  public Admission(ServerLimits limits) {
    this.limits = limits;
    this.budget = limits.inboundBudget() > 0 ? new InboundBudget(limits.inboundBudget()) : null;
  }

  public ServerLimits limits() {
    return limits;
  }

  /** The limits a connection's {@link ChunkCodec} enforces. */
  ChunkCodec.Limits codecLimits(Connection connection) {
    return new ChunkCodec.Limits(
        budget,
        ServerLimits.on(limits.messageTimeout()) ? limits.messageTimeout().toNanos() : 0,
        limits.maxMessageBeforeLogin(),
        connection::admitted);
  }

  /** The budget for partly received messages, or null when it is off. */
  InboundBudget budget() {
    return budget;
  }
}
