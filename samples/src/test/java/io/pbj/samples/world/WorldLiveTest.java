package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.testing.PbCleanup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code world-server --live} in its own process, {@code world-client --follow} run as its command
 * in the test's process, over loopback TCP: the client follows a world that changes by deltas,
 * whole states, publishes and unpublishes, and ends equal to the server, view and store.
 */
@Timeout(240)
class WorldLiveTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @TempDir Path serverDir;
  @TempDir Path clientDir;

  private record Run(int code, String out, String err) {
    /** The fields of the last line, which must be the follow line. */
    Map<String, Long> follow() {
      List<String> lines = out.lines().toList();
      String last = lines.get(lines.size() - 1);
      assertThat(last).as(out + err).startsWith("follow ");
      Map<String, Long> fields = new LinkedHashMap<>();
      for (String part : last.substring("follow ".length()).split(" ")) {
        String[] kv = part.split("=", 2);
        fields.put(kv[0], Long.parseLong(kv[1]));
      }
      return fields;
    }
  }

  private Run client(ServerProcess server, String... more) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new WorldClient());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    List<String> args = new java.util.ArrayList<>(List.of("--port", Integer.toString(server.port()),
        "--store", clientDir.toString(), "--server-id", server.serverId()));
    args.addAll(List.of(more));
    return new Run(cmd.execute(args.toArray(new String[0])), out.toString(), err.toString());
  }

  @Test
  void aFollowingClientEndsEqualToALiveServerAndARestartKeepsItsCacheValid() throws Exception {
    Run run;
    try (ServerProcess server = ServerProcess.start("--port", "0", "--store",
        serverDir.toString(), "--objects", "2000", "--live", "300")) {
      assertThat(server.output()).contains("world-server: live: 300 changes a second");
      run = client(server, "--follow", "6");
      assertThat(server.output()).doesNotContain("LEAK:").doesNotContain("could not save");
    }
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    Map<String, Long> f = run.follow();
    assertThat(f).containsEntry("seconds", 6L).containsEntry("mismatches", 0L);
    assertThat(f.get("published")).as("houses and items published while following").isPositive();
    assertThat(f.get("unpublished")).as("houses and items unpublished while following").isPositive();
    assertThat(f.get("deltas")).as("tiles and moves").isPositive();
    assertThat(f.get("full_states")).as("houses republished").isPositive();
    assertThat(f.get("deltas")).as("mostly deltas").isGreaterThan(f.get("full_states"));
    assertThat(run.out()).doesNotContain("MISMATCH").contains("summary objects=");

    // Stopped cleanly, the world was saved as it last was, at its versions: a server started
    // again (still) serves the same states at the same versions, so what the client stored is
    // valid, and what changed after the client left is refetched.
    Run again;
    try (ServerProcess restarted = ServerProcess.start("--port", "0", "--store",
        serverDir.toString())) {
      assertThat(restarted.output()).contains("serving the saved world")
          .doesNotContain("not stopped cleanly");
      again = client(restarted, "--follow", "1");
    }
    assertThat(again.code()).as(again.out() + again.err()).isZero();
    assertThat(again.follow()).containsEntry("mismatches", 0L)
        .containsEntry("published", 0L).containsEntry("deltas", 0L);
    assertThat(SummaryLine.fieldsOf(again.out()).get("hits")).as("the client's cache stays valid")
        .isPositive();
  }
}
