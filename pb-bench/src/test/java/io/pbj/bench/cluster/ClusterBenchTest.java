package io.pbj.bench.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The cluster benchmark's harness: a quick run with a handful of clients kills a member, every
 * orphaned client re-attaches to another member mostly from its store, and the table prints.
 * Nothing here asserts a time.
 */
class ClusterBenchTest {
  @Test
  void theOrphansOfAKilledMemberReattachElsewhereMostlyFromTheirStores() throws Exception {
    ClusterBench.Result r = ClusterBench.run(Options.parse(new String[] {
        "--quick", "--clients", "6", "--seconds", "1", "--rate", "20", "--writers", "2"}),
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    ClusterBench.Failover f = r.failover();
    assertThat(f.clients()).isEqualTo(6);
    assertThat(f.orphans()).as("clients k = 0, 3 started on the killed member").isEqualTo(2);
    assertThat(f.reattachNanos()).hasSize(2).doesNotContain(0L);
    assertThat(f.objects()).as("each orphan re-attached to the whole world").isEqualTo(2L * 100);
    assertThat(f.hitPercent()).as("the driver changed a few objects at most").isGreaterThan(80);
    assertThat(f.bytesPerReattach()).isLessThan(f.coldBytes() / 2);
    assertThat(f.others()).as("no client of a surviving member re-attached").isZero();
    assertThat(r.throughput().plainChanges()).isPositive();
    assertThat(r.throughput().clusterChanges()).isPositive();

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ClusterBench.print(new PrintStream(out, true, StandardCharsets.UTF_8), r);
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("re-attach ms p50/p99/max", "hits %", "cluster of 3, applied on every member");
  }

  @Test
  void badOptionsAreRefusedNamingTheOption() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--clients", "2"}))
        .hasMessageContaining("--clients");
    assertThatThrownBy(() -> Options.parse(new String[] {"--rate", "x"}))
        .hasMessageContaining("--rate");
    assertThatThrownBy(() -> Options.parse(new String[] {"--quick", "--quick"}))
        .hasMessageContaining("given twice");
    assertThatThrownBy(() -> Options.parse(new String[] {"--nope"}))
        .hasMessageContaining("unknown option --nope");
  }
}
