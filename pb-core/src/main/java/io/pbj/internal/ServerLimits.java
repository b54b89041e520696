package io.pbj.internal;

import io.netty.util.internal.PlatformDependent;
import java.time.Duration;

/**
 * What a server enforces on the connections it accepts, beyond {@link BrokerConfig}: the limits
 * of docs/CONNECTIONS.md, "Facing the internet". A zero duration or count turns that limit off.
 *
 * <p>Thread-safety: immutable.
 *
 * @param messageTimeout from the first byte of a message until its last
 * @param inboundBudget bytes of partly received messages all connections together may hold
 * @param maxMessageBeforeLogin largest message before the handshake (and, with a login root
 *     ({@link LoginGate}), login) is done
 */
public record ServerLimits(
    Duration messageTimeout,
    long inboundBudget,
    int maxMessageBeforeLogin) {

  public static final Duration DEFAULT_MESSAGE_TIMEOUT = Duration.ofSeconds(60);
  public static final int DEFAULT_MAX_MESSAGE_BEFORE_LOGIN = 64 << 10;

  /** The inbound budget never defaults above this. */
  static final long MAX_DEFAULT_INBOUND_BUDGET = 256L << 20;

  /**
   * The default inbound budget: a quarter of the direct memory Netty may use (where partly
   * received messages are held), at most 256 MiB, at least 16 MiB.
   */
  public static long defaultInboundBudget() {
    long direct = PlatformDependent.maxDirectMemory();
    long quarter = direct > 0 ? direct / 4 : MAX_DEFAULT_INBOUND_BUDGET;
    return Math.max(16L << 20, Math.min(MAX_DEFAULT_INBOUND_BUDGET, quarter));
  }

  /** True when {@code d} turns a limit on (positive); zero is off. */
  static boolean on(Duration d) {
    return d != null && !d.isZero();
  }
}
