package io.pbj.bench.scale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The scale benchmark's harness: {@code scale --quick} with a handful of clients runs the direct
 * and the relayed case end to end and checks its own results. Nothing here asserts a time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ScaleBenchTest {
  private static final String[] QUICK = {"--quick", "--clients", "5", "--stagger-ms", "50"};

  /** One run of the quick configuration, shared by the tests that read its results. */
  private ScaleBench.Result r;

  @BeforeAll
  void runTheQuickConfigurationOnce() throws Exception {
    r = ScaleBench.run(Options.parse(QUICK), quiet());
  }

  @Test
  void everyClientAttachesWarmAndEndsEqualToTheServersWorld() {
    assertThat(r.rows()).extracting(ScaleBench.Row::relays).containsExactly(0, 2);
    for (ScaleBench.Row row : r.rows()) {
      assertThat(row.clients()).isEqualTo(5);
      assertThat(row.snapshots()).isEqualTo(100);
      assertThat(row.attach().failures()).isZero();
      assertThat(row.attach().attachNanos()).hasSize(5).doesNotContain(0L);
      assertThat(row.attach().storeHits()).as("every object activated from the store")
          .isEqualTo(5L * 100);
      assertThat(row.ticks().tickNanos()).hasSize(10);
      assertThat(row.ticks().incomplete()).isZero();
      assertThat(row.check().stateMismatches()).isZero();
      assertThat(row.check().versionMismatches()).isZero();
      assertThat(row.check().clientsLost()).isZero();
    }
  }

  @Test
  void theOriginSendsTheTicksToEveryClientDirectlyAndOnlyToTheRelaysThroughThem() {
    ScaleBench.Row direct = r.rows().get(0);
    ScaleBench.Row relayed = r.rows().get(1);
    // 20 new states of 256 B per tick reach each of the 5 clients from the origin directly; through
    // 2 relays the origin sends them twice, and the relays send them 5 times.
    assertThat(direct.ticks().originBytes()).isGreaterThan(10L * 20 * 256 * 5);
    assertThat(direct.ticks().relayBytes()).isZero();
    assertThat(relayed.ticks().originBytes()).isGreaterThan(10L * 20 * 256 * 2)
        .isLessThan(direct.ticks().originBytes() / 2);
    assertThat(relayed.ticks().relayBytes()).isGreaterThan(10L * 20 * 256 * 5);
    // Clients attach at the relays: at most a keep-alive reaches the origin's connections then.
    assertThat(direct.attach().originBytes()).isPositive();
    assertThat(relayed.attach().originBytes()).as("clients attach at the relays")
        .isLessThan(direct.attach().originBytes() / 10);
  }

  @Test
  void theReportHasOneRowPerRunInEachTableAndTheCommand() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    ScaleBench.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), r, QUICK);

    String report = bytes.toString(StandardCharsets.UTF_8);
    assertThat(report).contains("pbj-bench.jar scale --quick --clients 5 --stagger-ms 50");
    assertThat(report.lines().filter(l -> l.startsWith("| direct |"))).hasSize(3);
    assertThat(report.lines().filter(l -> l.startsWith("| through 2 relays |"))).hasSize(3);
    assertThat(report).contains("Origin through 2 relays against direct");
  }

  @Test
  void theDefaultsAreTheIssuesSizesAndQuickIsSmall() {
    Options full = Options.parse(new String[0]);
    Options quick = Options.parse(new String[] {"--quick"});

    assertThat(full.clients()).isEqualTo(500);
    assertThat(full.objects()).isEqualTo(1000);
    assertThat(full.stateBytes()).isEqualTo(256);
    assertThat(full.ticks()).isEqualTo(100);
    assertThat(full.relays()).isEqualTo(4);
    assertThat(quick.clients() * quick.objects()).isLessThan(full.clients() * full.objects() / 100);
  }

  @Test
  void badOptionsFailNamingTheOptionAndTheValue() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--clients", "0"}))
        .hasMessageContaining("--clients").hasMessageContaining("'0'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--ticks", "x"}))
        .hasMessageContaining("--ticks").hasMessageContaining("'x'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--relays", "1", "--relays", "2"}))
        .hasMessageContaining("--relays given twice");
    assertThatThrownBy(() -> Options.parse(new String[] {"--objects", "10", "--per-tick", "11"}))
        .hasMessageContaining("--per-tick").hasMessageContaining("--objects");
    assertThatThrownBy(() -> Options.parse(new String[] {"--clients", "3", "--relays", "4"}))
        .hasMessageContaining("--relays").hasMessageContaining("--clients");
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }
}
