package io.pbj.internal;

import io.netty.util.internal.PlatformDependent;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
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
 * @param handshakeTimeout from accept until the peer's preamble and HELLO have arrived
 * @param loginTimeout on a server whose root is a {@link LoginGate}: from accept, and again from
 *     each logout, until a login succeeds
 * @param maxConnections connections open at once
 * @param maxConnectionsPerAddress connections open at once from one IP address (IPv6: one /64)
 * @param maxIncomingMessage largest message a client may send, below the server's own {@code
 *     maxMessageSize}; 0 for that limit
 */
public record ServerLimits(
    Duration messageTimeout,
    long inboundBudget,
    int maxMessageBeforeLogin,
    Duration handshakeTimeout,
    Duration loginTimeout,
    int maxConnections,
    int maxConnectionsPerAddress,
    int maxIncomingMessage) {

  public static final Duration DEFAULT_MESSAGE_TIMEOUT = Duration.ofSeconds(60);
  /** What the default limit before login allows beyond the server's own registry HELLO. */
  public static final int DEFAULT_MAX_MESSAGE_BEFORE_LOGIN = 64 << 10;
  public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_LOGIN_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_KEEP_ALIVE_INTERVAL = Duration.ofSeconds(15);
  public static final Duration DEFAULT_KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(45);
  public static final int DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 32;

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

  /** The connection cap never defaults above this. */
  static final int MAX_DEFAULT_CONNECTIONS = 10_000;

  /** Descriptors the default connection cap leaves for the server's own files. */
  static final int RESERVED_DESCRIPTORS = 128;

  /**
   * The default connection cap: 10,000, or four fifths of the process's file descriptor limit
   * less {@link #RESERVED_DESCRIPTORS} where that is lower (the last fifth is for refusals in
   * progress, see {@link Admission#refusalSlots}), so that a full server still has descriptors
   * for its own files and refuses newcomers instead of failing to accept them. At least 16.
   */
  public static int defaultMaxConnections() {
    long fds = fileDescriptorLimit();
    if (fds <= 0) {
      return MAX_DEFAULT_CONNECTIONS;
    }
    return (int)
        Math.max(16, Math.min(MAX_DEFAULT_CONNECTIONS, (fds - RESERVED_DESCRIPTORS) * 4 / 5));
  }

  /** The process's file descriptor limit, or -1 where the JVM does not tell. */
  static long fileDescriptorLimit() {
    try {
      OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
      if (os instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
        return unix.getMaxFileDescriptorCount();
      }
    } catch (RuntimeException | LinkageError e) {
      // not a JVM that tells: no limit known
    }
    return -1;
  }

  /** True when {@code d} turns a limit on (positive); zero is off. */
  static boolean on(Duration d) {
    return d != null && !d.isZero();
  }
}
