package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.testing.PbCleanup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import picocli.CommandLine;

/** The embedded world demo, run as its command with a smaller world. */
@Timeout(120)
class WorldDemoTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cmd = new CommandLine(new WorldDemo());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    return cmd.execute(args);
  }

  private String output() {
    return out.toString();
  }

  @Test
  void warmSessionHitsEveryUnchangedObjectWithinTheBudget() {
    assertThat(run("--objects", "2000")).as(output() + err).isZero();
    Map<String, Long> s = SummaryLine.of(output());
    // The live phase publishes and unpublishes a few: the warm session sees the world as it ends.
    assertThat(s.get("objects")).isBetween(1900L, 2100L);
    assertThat(s.get("warm_hits")).as("every object but the 1% changed after the live phase")
        .isEqualTo(s.get("objects") - 20);
    assertThat(s.get("warm_stale")).isEqualTo(20L);
    assertThat(s.get("warm_round_trips")).isZero();
    assertThat(s.get("warm_bytes")).isLessThanOrEqualTo(s.get("cold_bytes") / 20);
    assertThat(output()).contains("result:  OK").doesNotContain("FAILED");
    assertThat(output()).containsPattern(
        "live: +[0-9,]+ changes in 3 s .*the following session applied [0-9,]+ deltas and [0-9,]+"
            + " whole states, and its view and store of [0-9,]+ objects end with 0 mismatches");
    assertThat(err.toString()).as("the final progress lines")
        .contains("cold  [", "live  [", "warm  [", "2,000/2,000 objects activated");
  }

  @Test
  void theClientStoreFolderIsDeletedAtTheEnd() {
    assertThat(run("--objects", "200")).as(output() + err).isZero();
    Matcher m = Pattern.compile("store is a MapDB file in (.+) \\(deleted at the end\\)").matcher(output());
    assertThat(m.find()).as(output()).isTrue();
    assertThat(Files.exists(Path.of(m.group(1)))).as(m.group(1)).isFalse();
  }

  @Test
  void versionsModeFetchesTheStaleObjectsInOneExtraRoundTrip() {
    assertThat(run("--objects", "2000", "--mode", "versions", "--live-seconds", "0"))
        .as(output() + err).isZero();
    Map<String, Long> s = SummaryLine.of(output());
    assertThat(s.get("warm_hits")).isEqualTo(1980L);
    assertThat(s.get("warm_stale")).isEqualTo(20L);
    assertThat(s.get("warm_round_trips")).isEqualTo(1L);
    assertThat(s.get("warm_bytes")).isLessThanOrEqualTo(s.get("cold_bytes") / 20);
  }

  @Test
  void tooManyChangesBreakTheByteBudgetAndExitWith1() {
    assertThat(run("--objects", "1000", "--changed-percent", "50", "--live-seconds", "0"))
        .isEqualTo(1);
    Map<String, Long> s = SummaryLine.of(output());
    assertThat(s.get("warm_hits")).as("the unchanged half still hits").isEqualTo(500L);
    assertThat(s.get("warm_stale")).isEqualTo(500L);
    assertThat(output()).contains("FAILED:  warm bytes are").contains("of cold (at most 5.0%)");
  }

  @Test
  void badOptionsExitWith2() {
    assertThat(run("--objects", "3")).isEqualTo(2);
    assertThat(err.toString()).contains("--objects must be 10 to 100,000, got 3");
    assertThat(run("--changed-percent", "101")).isEqualTo(2);
    assertThat(err.toString()).contains("--changed-percent must be 0 to 100");
    assertThat(run("--live-rate", "0")).isEqualTo(2);
    assertThat(err.toString()).contains("--live-rate must be 1 to 100,000, got 0");
  }
}
