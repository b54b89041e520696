package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.stream.LongStream;
import io.netty.channel.local.LocalAddress;
import org.junit.jupiter.api.Test;

/** The throttle's arithmetic and memory bound, on a fake clock, without a transport. */
class LoginThrottleTest {
  final FakeClock clock = new FakeClock();

  LoginThrottle throttle(int accountMax, int addressMax, int capacity) {
    return new LoginThrottle(
        new LoginThrottle.Limit(accountMax, Duration.ofMinutes(10)),
        new LoginThrottle.Limit(addressMax, Duration.ofMinutes(10)),
        Duration.ofMillis(250),
        Duration.ofSeconds(8),
        capacity,
        new byte[32],
        clock);
  }

  @Test
  void delayDoublesAfterTheFreeFailuresUpToTheMaximum() {
    LoginThrottle t = throttle(10, 50, 100);
    long[] millis =
        LongStream.rangeClosed(0, 12).map(n -> t.delayFor((int) n) / 1_000_000).toArray();
    assertThat(millis).containsExactly(0, 0, 0, 0, 250, 500, 1000, 2000, 4000, 8000, 8000, 8000, 8000);
    assertThat(t.delayFor(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(8).toNanos());
  }

  @Test
  void accountIsRefusedAtItsLimitAndThenGetsOneAttemptPerDrainPeriod() {
    LoginThrottle t = throttle(10, 50, 100);
    long alice = t.accountKey("alice");
    for (int i = 0; i < 10; i++) {
      assertThat(t.admitProof(alice)).as("attempt %d", i + 1).isTrue();
    }
    assertThat(t.admitProof(alice)).isFalse();
    assertThat(t.admitStart(alice, null)).isFalse();
    assertThat(t.accountScore(alice)).isEqualTo(10);

    clock.advance(Duration.ofMinutes(1)); // 10 minutes / 10 failures: one drains per minute
    assertThat(t.admitProof(alice)).isTrue();
    assertThat(t.admitProof(alice)).isFalse();

    clock.advance(Duration.ofMinutes(10));
    assertThat(t.accountScore(alice)).isZero();
    assertThat(t.admitStart(alice, null)).isTrue();
  }

  @Test
  void successEmptiesTheAccountButOnlyGivesBackTheAddresssAttempt() {
    LoginThrottle t = throttle(10, 50, 100);
    long alice = t.accountKey("alice");
    long address = t.addressKey("198.51.100.7");
    for (int i = 0; i < 4; i++) {
      assertThat(t.admitStart(alice, address)).isTrue();
      assertThat(t.admitProof(alice)).isTrue();
    }
    assertThat(t.admitStart(alice, address)).isTrue();
    assertThat(t.admitProof(alice)).isTrue();
    t.succeeded(alice, address);

    assertThat(t.accountScore(alice)).isZero();
    assertThat(t.addressScore(address)).isEqualTo(4);
  }

  @Test
  void unknownAndKnownNamesAreTheSameToTheThrottle() {
    // the throttle is never told whether an account exists: same key function, same counts
    LoginThrottle t = throttle(3, 50, 100);
    long known = t.accountKey("alice");
    long unknown = t.accountKey("mallory");
    for (int i = 0; i < 3; i++) {
      assertThat(t.admitProof(known)).isEqualTo(t.admitProof(unknown)).isTrue();
      assertThat(t.failureDelayNanos(known, null)).isEqualTo(t.failureDelayNanos(unknown, null));
    }
    assertThat(t.admitProof(known)).isEqualTo(t.admitProof(unknown)).isFalse();
  }

  @Test
  void addressesAreGroupedAsIpv4AddressesAndIpv6Slash64Prefixes() {
    assertThat(group("203.0.113.9")).isEqualTo("203.0.113.9");
    assertThat(group("203.0.113.10")).isEqualTo("203.0.113.10");
    assertThat(group("2001:db8:1:2::1")).isEqualTo("2001:db8:1:2::/64");
    assertThat(group("2001:db8:1:2:ffff:eeee:dddd:9")).isEqualTo("2001:db8:1:2::/64");
    assertThat(group("2001:db8:1:3::1")).isEqualTo("2001:db8:1:3::/64");
    assertThat(group("::ffff:203.0.113.9")).isEqualTo("203.0.113.9");
    assertThat(group("::1")).isEqualTo("::/64");
    assertThat(LoginThrottle.addressGroup(new LocalAddress("in-process"))).isNull();
  }

  static String group(String ip) {
    return LoginThrottle.addressGroup(new InetSocketAddress(ip, 7000));
  }

  @Test
  void floodOfOneFailureNamesFitsTheFixedTableAndEvictsNoBiggerCount() {
    LoginThrottle t = throttle(10, 1_000_000, 128);
    long alice = t.accountKey("alice");
    for (int i = 0; i < 10; i++) {
      t.admitProof(alice);
    }
    assertThat(t.admitProof(alice)).isFalse();

    for (int i = 0; i < 100_000; i++) {
      assertThat(t.admitProof(t.accountKey("flood-" + i))).isTrue();
    }

    assertThat(t.capacity()).isEqualTo(128);
    assertThat(t.entries()).isLessThanOrEqualTo(2 * 128);
    assertThat(t.accountScore(alice)).isEqualTo(10);
    assertThat(t.admitProof(alice)).isFalse();
    // names the flood never used inherit nothing from it
    assertThat(t.accountScore(t.accountKey("bob"))).isZero();
  }

  @Test
  void floodOfNamesWithFewerFailuresDoesNotEvictAHigherCount() {
    LoginThrottle t = throttle(10, 1_000_000, 128);
    long alice = t.accountKey("alice");
    for (int i = 0; i < 10; i++) {
      t.admitProof(alice);
    }
    for (int i = 0; i < 10_000; i++) {
      long key = t.accountKey("flood-" + i);
      for (int j = 0; j < 9; j++) {
        assertThat(t.admitProof(key)).isTrue();
      }
    }
    assertThat(t.accountScore(alice)).isEqualTo(10);
    assertThat(t.admitProof(alice)).isFalse();
  }

  @Test
  void aFullTableEvictsACountOnlyForKeysHoldingAsManyFailures() {
    // the documented price of the bound: new keys still get a slot, and resetting a count of n
    // takes giving the other keys of its set n failures each (about capacity x n in all)
    LoginThrottle t = throttle(10, 1_000_000, 64);
    long alice = t.accountKey("alice");
    for (int i = 0; i < 10; i++) {
      t.admitProof(alice);
    }
    int spent = 0;
    for (int i = 0; t.accountScore(alice) > 0; i++) {
      clock.advance(Duration.ofMillis(1)); // later keys hold later buckets: alice is the oldest
      long key = t.accountKey("flood-" + i);
      for (int j = 0; j < 10; j++) {
        t.admitProof(key);
        spent++;
      }
    }
    assertThat(spent).isGreaterThanOrEqualTo(7 * 10); // the 7 other slots of alice's set, at 10
    assertThat(t.admitProof(alice)).isTrue();
  }
}
