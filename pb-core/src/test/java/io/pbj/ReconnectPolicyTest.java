package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ReconnectPolicyTest {

  /** A Random whose nextDouble is always {@code value}. */
  private static Random fixed(double value) {
    return new Random() {
      @Override
      public double nextDouble() {
        return value;
      }
    };
  }

  @Test
  void withSeveralAddressesTheFirstRetryWaitsOnlyTheJitterAndBackoffGrowsPerRound() {
    ReconnectPolicy p =
        ReconnectPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1)).withJitter(0.5);
    // the first attempt, to the next member: a random part of the jitter window only
    assertThat(p.delay(1, 3, fixed(0.0))).isEqualTo(Duration.ZERO);
    assertThat(p.delay(1, 3, fixed(0.5))).isEqualTo(Duration.ofMillis(25));
    assertThat(p.delay(1, 3, fixed(0.999))).isLessThan(Duration.ofMillis(50));
    // then round 1 (attempts 2..3) waits the initial delay, round 2 (4..6) twice that, ...
    assertThat(p.delay(2, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(3, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(4, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(200));
    assertThat(p.delay(6, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(200));
    assertThat(p.delay(7, 3, fixed(0.0))).isEqualTo(Duration.ofMillis(400));
    assertThat(p.delay(1000, 3, fixed(0.0))).isEqualTo(Duration.ofSeconds(1));
    // one address: as before
    assertThat(p.delay(1, 1, fixed(0.0))).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(2, 1, fixed(0.0))).isEqualTo(Duration.ofMillis(200));
  }

  @Test
  void delaysGrowByTheMultiplierUntilTheCap() {
    ReconnectPolicy p =
        ReconnectPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1))
            .withMultiplier(2)
            .withJitter(0);
    Random r = new Random(1);
    assertThat(p.delay(1, r)).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(2, r)).isEqualTo(Duration.ofMillis(200));
    assertThat(p.delay(3, r)).isEqualTo(Duration.ofMillis(400));
    assertThat(p.delay(4, r)).isEqualTo(Duration.ofMillis(800));
    assertThat(p.delay(5, r)).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.delay(1000, r)).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void jitterShortensEachDelayByAtMostItsFraction() {
    ReconnectPolicy p =
        ReconnectPolicy.exponential(Duration.ofMillis(100), Duration.ofSeconds(1)).withJitter(0.5);
    assertThat(p.delay(1, fixed(0.0))).isEqualTo(Duration.ofMillis(100));
    assertThat(p.delay(1, fixed(0.5))).isEqualTo(Duration.ofMillis(75));
    assertThat(p.delay(2, fixed(0.999999))).isBetween(Duration.ofMillis(100), Duration.ofMillis(101));
    // capped before jitter: never above the cap, never below half of it
    assertThat(p.delay(50, fixed(0.0))).isEqualTo(Duration.ofSeconds(1));
    assertThat(p.delay(50, fixed(0.5))).isEqualTo(Duration.ofMillis(750));
  }

  @Test
  void jitteredDelaysStayWithinTheirBoundsForAnyRandom() {
    ReconnectPolicy p = ReconnectPolicy.defaults();
    Random r = new Random(42);
    for (int attempt = 1; attempt <= 40; attempt++) {
      Duration d = p.delay(attempt, r);
      double base = Math.min(30_000, 200 * Math.pow(2, attempt - 1));
      assertThat(d.toNanos() / 1e6).isBetween(base * 0.8 - 1e-6, base);
    }
  }

  @Test
  void invalidSettingsFailNamingTheSetting() {
    assertThatThrownBy(() -> ReconnectPolicy.exponential(Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("initialDelay");
    assertThatThrownBy(
            () -> ReconnectPolicy.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDelay");
    assertThatThrownBy(() -> ReconnectPolicy.defaults().withMultiplier(0.5))
        .hasMessageContaining("multiplier");
    assertThatThrownBy(() -> ReconnectPolicy.defaults().withMultiplier(Double.NaN))
        .hasMessageContaining("multiplier");
    assertThatThrownBy(() -> ReconnectPolicy.defaults().withJitter(1.5))
        .hasMessageContaining("jitter");
    assertThatThrownBy(() -> ReconnectPolicy.defaults().withJitter(-0.1))
        .hasMessageContaining("jitter");
  }

  @Test
  void reconnectSetTwiceFailsNamingTheOption() {
    PbClient.Builder b = PbClient.builder().reconnect(ReconnectPolicy.defaults());
    assertThatThrownBy(() -> b.reconnect(ReconnectPolicy.defaults()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbClient.Builder.reconnect");
  }
}
