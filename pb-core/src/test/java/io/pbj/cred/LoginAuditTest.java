package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The audit log's rate limit, on a fake clock. */
class LoginAuditTest {
  final FakeClock clock = new FakeClock();
  final List<String> lines = new CopyOnWriteArrayList<>();
  final LoginAudit audit = new LoginAudit(clock, lines::add);

  @Test
  void oneAccountUnderAttackGetsAFewLinesThenOneSummaryPerInterval() {
    for (int i = 0; i < 1000; i++) {
      audit.failed("alice", "203.0.113.9", "wrong password");
    }
    assertThat(lines)
        .hasSize(LoginAudit.LINES_PER_KEY)
        .allMatch(l -> l.equals("failed login for account 'alice' from 203.0.113.9: wrong password"));

    lines.clear();
    clock.advance(Duration.ofSeconds(60));
    assertThat(lines)
        .containsExactly(
            "1000 failed logins in the last 60 s (997 not logged one by one), for 1 accounts from"
                + " 1 addresses",
            "1000 failed logins for account 'alice' in the last 60 s",
            "1000 failed logins from address 203.0.113.9 in the last 60 s");

    // the next interval starts afresh
    lines.clear();
    audit.failed("alice", "203.0.113.9", "wrong password");
    assertThat(lines).hasSize(1);
    clock.advance(Duration.ofSeconds(60));
    assertThat(lines).hasSize(1); // nothing went unlogged: no summary
  }

  @Test
  void sprayOverManyAccountsAndAddressesStaysWithinTheLinesPerInterval() {
    for (int i = 0; i < 50_000; i++) {
      audit.failed("user" + i, "198.51.100." + (i % 7), "unknown user");
    }
    assertThat(lines).hasSize(LoginAudit.LINES_PER_INTERVAL);
    clock.advance(Duration.ofSeconds(60));
    List<String> summary = lines.subList(LoginAudit.LINES_PER_INTERVAL, lines.size());
    // one total (accounts past the tracked 1000 shown as "1000+"), then the busiest addresses;
    // no account failed more than once, so none gets a line of its own
    assertThat(summary).hasSize(1 + LoginAudit.TOP_KEYS);
    assertThat(summary.get(0))
        .isEqualTo(
            "50000 failed logins in the last 60 s (49990 not logged one by one), for 1000+"
                + " accounts from 7 addresses");
    assertThat(summary.subList(1, summary.size()))
        .allMatch(l -> l.matches("714[23] failed logins from address 198\\.51\\.100\\.[0-6] in the last 60 s"));
  }
}
