package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogLimiterTest {
  private final AtomicLong now = new AtomicLong();
  private final LogLimiter limiter = new LogLimiter(10, now::get);

  @Test
  void firstLineOfAnIntervalIsLoggedAndTheRestAreCounted() {
    assertThat(limiter.admit()).isZero();
    for (int i = 0; i < 10_000; i++) {
      assertThat(limiter.admit()).isEqualTo(-1);
    }
    now.addAndGet(TimeUnit.SECONDS.toNanos(9));
    assertThat(limiter.admit()).as("still inside the interval").isEqualTo(-1);
    now.addAndGet(TimeUnit.SECONDS.toNanos(1));
    assertThat(limiter.admit()).as("the next line says how many were left out").isEqualTo(10_001);
    now.addAndGet(TimeUnit.SECONDS.toNanos(10));
    assertThat(limiter.admit()).isZero();
  }
}
