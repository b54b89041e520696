package io.pbj;

import java.time.Duration;
import java.util.Objects;
import java.util.Random;

/**
 * How a {@link PbClient} waits between connection attempts after it lost its connection (or
 * could not make one): exponential backoff with jitter and a cap. The delay before attempt
 * {@code n} (counting from 1 after each loss) is {@code min(maxDelay, initialDelay * multiplier^(n
 * - 1))}, then shortened by a random fraction of up to {@code jitter} of itself, so many clients
 * cut off at once do not all come back at the same instant. It never exceeds {@code maxDelay}.
 *
 * <p>A client with several addresses ({@link PbClient.Builder#addresses}) moves to the next address
 * on every attempt, so its backoff grows once per round through the list, not per attempt: with
 * {@code k} addresses, attempt {@code n} waits the delay above for round {@code (n - 1) / k + 1}.
 * The first attempt (to the next address, the one after the lost or failed member) waits only the
 * jitter part, a random fraction in {@code [0, jitter)} of {@code initialDelay}: a dead member
 * costs no full backoff, and clients cut off together still spread over that window.
 *
 * <pre>{@code
 * PbClient client = PbClient.builder()
 *     .address("game.example.com", 7000)
 *     .reconnect(ReconnectPolicy.exponential(Duration.ofMillis(200), Duration.ofSeconds(30))
 *         .withMultiplier(2)
 *         .withJitter(0.2))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class ReconnectPolicy {
  private final Duration initialDelay;
  private final Duration maxDelay;
  private final double multiplier;
  private final double jitter;

  private ReconnectPolicy(Duration initialDelay, Duration maxDelay, double multiplier, double jitter) {
    this.initialDelay = initialDelay;
    this.maxDelay = maxDelay;
    this.multiplier = multiplier;
    this.jitter = jitter;
  }

  /**
   * Backoff from {@code initialDelay} up to {@code maxDelay}, multiplier 2, jitter 0.2.
   *
   * @param initialDelay positive
   * @param maxDelay at least {@code initialDelay}
   */
  public static ReconnectPolicy exponential(Duration initialDelay, Duration maxDelay) {
    Objects.requireNonNull(initialDelay, "initialDelay");
    Objects.requireNonNull(maxDelay, "maxDelay");
    if (initialDelay.isNegative() || initialDelay.isZero()) {
      throw new IllegalArgumentException(
          "ReconnectPolicy initialDelay must be positive, got " + initialDelay);
    }
    if (maxDelay.compareTo(initialDelay) < 0) {
      throw new IllegalArgumentException(
          "ReconnectPolicy maxDelay " + maxDelay + " is shorter than initialDelay " + initialDelay);
    }
    return new ReconnectPolicy(initialDelay, maxDelay, 2.0, 0.2);
  }

  /** 200 ms, doubling up to 30 seconds, jitter 0.2. */
  public static ReconnectPolicy defaults() {
    return exponential(Duration.ofMillis(200), Duration.ofSeconds(30));
  }

  /** The same policy with each delay {@code multiplier} times the previous one (at least 1). */
  public ReconnectPolicy withMultiplier(double multiplier) {
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException(
          "ReconnectPolicy multiplier must be a finite number >= 1, got " + multiplier);
    }
    return new ReconnectPolicy(initialDelay, maxDelay, multiplier, jitter);
  }

  /**
   * The same policy with each delay shortened by a random fraction in {@code [0, jitter)} of
   * itself; 0 for none, at most 1.
   */
  public ReconnectPolicy withJitter(double jitter) {
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException(
          "ReconnectPolicy jitter must be between 0 and 1, got " + jitter);
    }
    return new ReconnectPolicy(initialDelay, maxDelay, multiplier, jitter);
  }

  public Duration initialDelay() {
    return initialDelay;
  }

  public Duration maxDelay() {
    return maxDelay;
  }

  public double multiplier() {
    return multiplier;
  }

  public double jitter() {
    return jitter;
  }

  /** The delay before attempt {@code attempt} (from 1), jittered with {@code random}. */
  Duration delay(int attempt, Random random) {
    if (attempt < 1) {
      throw new IllegalArgumentException("attempt counts from 1, got " + attempt);
    }
    double max = maxDelay.toNanos();
    double base = initialDelay.toNanos() * Math.pow(multiplier, attempt - 1.0);
    double capped = Math.min(max, base);
    double jittered = capped * (1.0 - jitter * random.nextDouble());
    return Duration.ofNanos(Math.max(1L, (long) jittered));
  }

  /**
   * The delay before attempt {@code attempt} (from 1) of a client with {@code addresses} addresses
   * (see the class comment), jittered with {@code random}.
   */
  Duration delay(int attempt, int addresses, Random random) {
    if (addresses <= 1) {
      return delay(attempt, random);
    }
    if (attempt == 1) {
      return Duration.ofNanos((long) (initialDelay.toNanos() * jitter * random.nextDouble()));
    }
    return delay((attempt - 1) / addresses + 1, random);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ReconnectPolicy p
        && initialDelay.equals(p.initialDelay)
        && maxDelay.equals(p.maxDelay)
        && multiplier == p.multiplier
        && jitter == p.jitter;
  }

  @Override
  public int hashCode() {
    return Objects.hash(initialDelay, maxDelay, multiplier, jitter);
  }

  @Override
  public String toString() {
    return "ReconnectPolicy[initialDelay=" + initialDelay + ", maxDelay=" + maxDelay
        + ", multiplier=" + multiplier + ", jitter=" + jitter + "]";
  }
}
