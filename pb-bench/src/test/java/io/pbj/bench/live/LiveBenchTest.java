package io.pbj.bench.live;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The live benchmark's harness: a tiny configuration runs both modes end to end and checks its
 * own results. Nothing here asserts a time.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LiveBenchTest {
  private static final String[] TINY = {
      "--objects", "50", "--clients", "3", "--rate", "400", "--seconds", "1", "--churn", "4"};

  /** One run of the tiny configuration, shared by the tests that read its results. */
  private LiveBench.Result r;

  @BeforeAll
  void runTheTinyConfigurationOnce() throws Exception {
    r = LiveBench.run(Options.parse(TINY), quiet());
  }

  @Test
  void bothModesMakeEveryChangeAndEveryClientEndsWithTheServersStatesAndStore() throws Exception {
    assertThat(r.rows()).extracting(LiveBench.Row::mode)
        .containsExactly(LiveBench.Mode.DELTA, LiveBench.Mode.WHOLE);
    for (LiveBench.Row row : r.rows()) {
      assertThat(row.changes()).isEqualTo(400);
      assertThat(row.published()).isPositive();
      assertThat(row.unpublished()).isPositive();
      assertThat(row.quiet()).isTrue();
      assertThat(row.check().stateMismatches()).isZero();
      assertThat(row.check().storeMismatches()).isZero();
      assertThat(row.incomplete()).isZero();
      assertThat(row.delays()).hasSize(row.patches());
      assertThat(row.bytesSent()).isPositive();
    }
  }

  @Test
  void aDeltaCostsAFractionOfTheWholeStateOnTheWire() throws Exception {
    LiveBench.Row delta = r.rows().get(0);
    LiveBench.Row whole = r.rows().get(1);
    // A 1 KiB state per change against a patch of 12 bytes and its offset (plus the shared
    // announcements of both modes).
    assertThat(whole.bytesPerChangePerClient()).isGreaterThan(1024);
    assertThat(delta.bytesPerChangePerClient()).isLessThan(whole.bytesPerChangePerClient() / 4);
  }

  @Test
  void theReportHasOneRowPerModeAndTheCommand() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();

    LiveBench.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), r, TINY);

    String report = bytes.toString(StandardCharsets.UTF_8);
    assertThat(report).contains("pbj-bench.jar live --objects 50 --clients 3");
    assertThat(report.lines().filter(l -> l.startsWith("| delta (republishDelta) |"))).hasSize(2);
    assertThat(report.lines().filter(l -> l.startsWith("| whole state (republish) |"))).hasSize(2);
  }

  @Test
  void theDefaultsAreTheIssuesSizesAndQuickIsSmall() {
    Options full = Options.parse(new String[0]);
    Options quick = Options.parse(new String[] {"--quick"});

    assertThat(full.objects()).isEqualTo(10_000);
    assertThat(full.clients()).isEqualTo(100);
    assertThat(full.rate()).isEqualTo(1000);
    assertThat(full.seconds()).isEqualTo(10);
    assertThat(full.stateBytes()).isEqualTo(1024);
    assertThat(quick.objects() * quick.clients()).isLessThan(full.objects() * full.clients() / 100);
  }

  @Test
  void badOptionsFailNamingTheOptionAndTheValue() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--clients", "0"}))
        .hasMessageContaining("--clients").hasMessageContaining("'0'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--churn", "101"}))
        .hasMessageContaining("--churn").hasMessageContaining("'101'");
    assertThatThrownBy(() -> Options.parse(new String[] {"--rate", "5", "--rate", "6"}))
        .hasMessageContaining("--rate given twice");
    assertThatThrownBy(() -> Options.parse(new String[] {"--size", "8", "--patch", "12"}))
        .hasMessageContaining("--patch").hasMessageContaining("--size");
  }

  private static PrintStream quiet() {
    return new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
  }
}
