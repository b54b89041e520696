package io.pbj.internal;

import io.pbj.PbRegistry;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.concurrent.Executor;
import io.netty.channel.local.LocalAddress;

/**
 * The options server and client builders share, with the rule that each is set at most once and
 * that conflicting options fail at once, naming both.
 *
 * <p>Thread-safety: not thread-safe; a builder is used from one thread.
 */
public final class Options {
  private final String owner;
  private final SetOnce set;
  private String addressOption;
  private SocketAddress address;
  private Transport transport;
  public PbRegistry registry = PbRegistry.defaults();
  public Executor executor;
  public int maxFrame = Wire.DEFAULT_MAX_FRAME;
  public int maxMessage = Wire.DEFAULT_MAX_MESSAGE;
  public int maxDepth = Wire.DEFAULT_MAX_DEPTH;
  public int maxReferences = Wire.DEFAULT_MAX_REFERENCES;
  public int maxDecodeExpansion = Wire.DEFAULT_MAX_DECODE_EXPANSION;
  public boolean sendStackTraces;
  public boolean directCompletions;
  public java.util.List<io.pbj.CallInterceptor> interceptors = java.util.List.of();
  public io.pbj.PbListener eventListener;
  public java.util.function.Consumer<? super io.pbj.UpdateFailure> updateFailureListener;
  private String tlsOption;
  private Tls tls;
  /** Keep-alive ping interval and read timeout; null when keep-alive is off. */
  public java.time.Duration keepAliveInterval;
  public java.time.Duration keepAliveTimeout;
  /** The registry {@link #helloSize} was computed for, and the size. */
  private PbRegistry helloRegistry;
  private int helloSize;

  public Options(String owner) {
    this.owner = owner;
    this.set = new SetOnce(owner);
  }

  /** Marks {@code option} as set; fails if it already was. */
  public void once(String option) {
    set.mark(option);
  }

  public boolean isSet(String option) {
    return set.isSet(option);
  }

  /** Sets the address; fails if another address option was set. */
  public void address(String option, SocketAddress address, Transport transport) {
    if (addressOption != null) {
      throw new IllegalStateException(
          owner + "." + option + " conflicts with " + owner + "." + addressOption
              + ": choose one address");
    }
    addressOption = option;
    this.address = address;
    this.transport = transport;
  }

  /** Sets TLS; fails if another TLS option was set, naming both. */
  public void tls(String option, Tls tls) {
    if (tlsOption != null) {
      throw new IllegalStateException(
          owner + "." + option + " conflicts with " + owner + "." + tlsOption
              + ": choose one way to configure TLS");
    }
    tlsOption = option;
    this.tls = tls;
  }

  /** The TLS settings, or null when TLS is off. */
  public Tls tls() {
    return tls;
  }

  /** Sets keep-alive ({@code ZERO, ZERO}: off); fails if it was already set. */
  public void keepAlive(java.time.Duration interval, java.time.Duration timeout) {
    Objects.requireNonNull(interval, "interval");
    Objects.requireNonNull(timeout, "timeout");
    if (interval.isZero() && timeout.isZero()) {
      once("keepAlive");
      keepAliveInterval = null;
      keepAliveTimeout = null;
      return;
    }
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException(
          owner + ".keepAlive interval must be positive, got " + interval);
    }
    if (timeout.compareTo(interval) <= 0) {
      throw new IllegalArgumentException(
          owner + ".keepAlive timeout " + timeout + " must be longer than the interval "
              + interval + " (else a healthy but idle peer is dropped before it is pinged)");
    }
    once("keepAlive");
    keepAliveInterval = interval;
    keepAliveTimeout = timeout;
  }

  public static SocketAddress tcp(String host, int port, boolean allowZero) {
    Objects.requireNonNull(host, "host");
    if (port < (allowZero ? 0 : 1) || port > 65535) {
      throw new IllegalArgumentException(
          "port " + port + " is out of range " + (allowZero ? "0" : "1") + "..65535");
    }
    return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
  }

  public static SocketAddress local(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("in-process name must not be blank");
    }
    return new LocalAddress(name);
  }

  public SocketAddress address() {
    if (address == null) {
      throw new IllegalStateException(
          owner + " needs an address: call port/address or inProcess before build()");
    }
    return address;
  }

  public Transport transport() {
    address();
    return transport;
  }

  public static int positive(String option, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(option + " must be positive, got " + value);
    }
    return value;
  }

  /**
   * The bytes of this side's registry HELLO, its first message on every connection: an id and a
   * class name for every class of {@link #registry}.
   */
  public int helloSize() {
    if (helloRegistry != registry) {
      helloSize = WireCodec.helloSize(registry);
      helloRegistry = registry;
    }
    return helloSize;
  }

  /** Checks the limits against each other, and against the HELLO they must hold. */
  public void validateLimits() {
    if (!isSet("maxFrameSize")) {
      maxFrame = Math.max(Wire.MIN_FRAME, Math.min(maxFrame, maxMessage));
    }
    if (maxFrame < Wire.MIN_FRAME) {
      throw new IllegalArgumentException(
          owner + ".maxFrameSize " + maxFrame + " is below the minimum of " + Wire.MIN_FRAME);
    }
    if (maxMessage < maxFrame) {
      throw new IllegalArgumentException(
          owner + ".maxMessageSize " + maxMessage + " is smaller than maxFrameSize " + maxFrame);
    }
    int hello = helloSize();
    if (maxMessage < hello) {
      throw new IllegalArgumentException(
          owner + ".maxMessageSize " + maxMessage + " is smaller than " + helloText(hello)
              + ", so no connection could start; use at least " + hello);
    }
  }

  /** This side's HELLO of {@code bytes} bytes, described for an error message. */
  public String helloText(int bytes) {
    int classes = registry.valueTypes().size() + registry.cacheTypes().size();
    return "this side's registry HELLO of " + bytes + " bytes (its first message, naming the "
        + KryoSetup.BUILTINS.size() + " built-in classes and the " + classes + " registered)";
  }

  public BrokerConfig config(Executor resolvedExecutor) {
    return new BrokerConfig(
        registry,
        resolvedExecutor,
        maxFrame,
        maxMessage,
        maxDepth,
        maxReferences,
        sendStackTraces,
        maxDecodeExpansion,
        directCompletions,
        Observability.of(interceptors, eventListener),
        updateFailureListener);
  }

  /** {@code value} when it is zero (a limit turned off) or positive; fails naming the option. */
  /** {@code value}, if positive; fails naming {@code option} otherwise. */
  public static java.time.Duration positive(String option, java.time.Duration value) {
    Objects.requireNonNull(value, option);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(option + " must be positive, got " + value);
    }
    return value;
  }

  /** {@code value}, if zero (meaning off) or positive; fails naming {@code option} otherwise. */
  public static java.time.Duration zeroOrPositive(String option, java.time.Duration value) {
    Objects.requireNonNull(value, option);
    if (value.isNegative()) {
      throw new IllegalArgumentException(
          option + " must be zero (off) or positive, got " + value);
    }
    return value;
  }
}
