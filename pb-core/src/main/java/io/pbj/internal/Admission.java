package io.pbj.internal;

import io.netty.channel.Channel;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What one server shares among its connections to enforce {@link ServerLimits}: the count of
 * open connections, in total and per remote address, and the {@link InboundBudget}.
 *
 * <p>A connection over a cap is still accepted (the kernel already did), told why in a GOODBYE
 * right after the preamble and closed (see {@link Refusal}); it is never counted and never gets
 * a {@link Connection}. Refusals in progress are bounded too: past {@link #refusalSlots}, a
 * newcomer is closed at once without a word, so that a flood cannot hold descriptors through
 * its refusals.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class Admission {
  /** Most refusals (goodbye written, waiting for the peer to close) at one time. */
  static final int MAX_REFUSING = 256;

  /**
   * Refusals in progress at one time: {@link #MAX_REFUSING}, or a quarter of the connection cap
   * if lower (so that with the default cap, connections and refusals together stay within the
   * descriptors left for them).
   */
  static int refusalSlots(int maxConnections) {
    return maxConnections > 0 ? Math.max(1, Math.min(MAX_REFUSING, maxConnections / 4)) : MAX_REFUSING;
  }

  private final ServerLimits limits;
  private final InboundBudget budget;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
  private final AtomicInteger refusing = new AtomicInteger();
  private final int refusalSlots;

  public Admission(ServerLimits limits) {
    this.limits = limits;
    this.budget = limits.inboundBudget() > 0 ? new InboundBudget(limits.inboundBudget()) : null;
    this.refusalSlots = refusalSlots(limits.maxConnections());
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
        connection.admittance()::admitted,
        limits.maxIncomingMessage());
  }

  /** The budget for partly received messages, or null when it is off. */
  InboundBudget budget() {
    return budget;
  }

  /** Connections counted now. */
  public int open() {
    return open.get();
  }

  /** Refused connections not yet closed. */
  public int refusing() {
    return refusing.get();
  }

  /**
   * Counts {@code channel} in until it closes and returns null, or returns why it is refused
   * (then it is not counted).
   */
  String admit(Channel channel) {
    int max = limits.maxConnections();
    if (open.incrementAndGet() > max && max > 0) {
      open.decrementAndGet();
      return "the server is full (" + max + " connections); try again later";
    }
    InetAddress key = limits.maxConnectionsPerAddress() > 0 ? key(channel.remoteAddress()) : null;
    if (key != null) {
      int cap = limits.maxConnectionsPerAddress();
      boolean[] over = {false};
      perAddress.compute(
          key,
          (k, n) -> {
            int next = n == null ? 1 : n + 1;
            if (next > cap) {
              over[0] = true;
              return n;
            }
            return next;
          });
      if (over[0]) {
        open.decrementAndGet();
        return "too many connections from " + describe(key) + " (" + cap + "); try again later";
      }
    }
    channel.closeFuture().addListener(f -> release(key));
    return null;
  }

  private void release(InetAddress key) {
    open.decrementAndGet();
    if (key != null) {
      perAddress.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  /** Takes a refusal slot until {@code channel} closes; false when all are taken. */
  boolean startRefusal(Channel channel) {
    if (refusing.incrementAndGet() > refusalSlots) {
      refusing.decrementAndGet();
      return false;
    }
    channel.closeFuture().addListener(f -> refusing.decrementAndGet());
    return true;
  }

  /**
   * The address a per-address cap counts: the IPv4 address, or the /64 prefix of an IPv6 one (a
   * single subscriber usually has a whole /64); null for other transports.
   */
  static InetAddress key(SocketAddress remote) {
    if (!(remote instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return null;
    }
    InetAddress address = inet.getAddress();
    if (address instanceof Inet6Address) {
      byte[] prefix = Arrays.copyOf(address.getAddress(), 16);
      Arrays.fill(prefix, 8, 16, (byte) 0);
      try {
        return InetAddress.getByAddress(prefix);
      } catch (UnknownHostException e) {
        throw new AssertionError(e); // 16 bytes are always a valid address
      }
    }
    return address;
  }

  private static String describe(InetAddress key) {
    return key instanceof Inet6Address ? key.getHostAddress() + "/64" : key.getHostAddress();
  }
}
