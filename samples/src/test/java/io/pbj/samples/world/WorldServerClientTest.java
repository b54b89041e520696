package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.publish.ServerKey;
import io.pbj.testing.PbCleanup;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * world-server in its own process, world-client run as its command in the test's process: the
 * two talk over loopback TCP, and the server is stopped and started again on the same folder.
 */
@Timeout(180)
class WorldServerClientTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @TempDir Path serverDir;
  @TempDir Path clientDir;

  /** One world-client run: exit code, stdout, stderr. */
  private record Run(int code, String out, String err) {
    Map<String, Long> summary() {
      return SummaryLine.of(out);
    }
  }

  private Run client(ServerProcess server, String... more) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new WorldClient());
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    String[] base = {"--port", Integer.toString(server.port()), "--store", clientDir.toString()};
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return new Run(cmd.execute(args), out.toString(), err.toString());
  }

  private ServerProcess server(String... more) throws Exception {
    String[] base = {"--port", "0", "--store", serverDir.toString(), "--objects", "2000"};
    String[] args = new String[base.length + more.length];
    System.arraycopy(base, 0, args, 0, base.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return ServerProcess.start(args);
  }

  private static void assertNoLeaks(ServerProcess server) {
    assertThat(server.output()).as("server output").doesNotContain("LEAK:");
  }

  @Test
  void restartedServerWithTheSameStoreGivesTheClientOnlyHits() throws Exception {
    Run first;
    String id;
    try (ServerProcess server = server()) {
      assertThat(server.objects()).isEqualTo(2000);
      assertThat(server.serverId()).matches("pbj1-[a-z2-7]{52}");
      assertThat(serverDir.resolve(WorldServer.KEY_FILE)).exists();
      assertThat(server.output()).contains("made a new world");
      id = server.serverId();
      first = client(server, "--server-id", id);
      assertNoLeaks(server);
    }
    assertThat(first.code()).as(first.out() + first.err()).isZero();
    assertThat(first.summary())
        .containsEntry("objects", 2000L)
        .containsEntry("hits", 0L)
        .containsEntry("stale", 2000L)
        .containsEntry("round_trips", 0L);

    Run second;
    // Another seed would make another world: hits show the saved one is served.
    try (ServerProcess restarted = server("--seed", "2")) {
      assertThat(restarted.output()).contains("serving the saved world");
      assertThat(restarted.serverId()).as("the saved world keeps its id").isEqualTo(id);
      second = client(restarted, "--server-id", id);
      Run wrongId = client(restarted, "--server-id", "world-2");
      assertThat(wrongId.code()).isEqualTo(1);
      assertThat(wrongId.err()).contains("expected server id world-2 but the server is " + id);
      Run noId = client(restarted, "--mode", "inventory");
      assertThat(noId.code()).isEqualTo(2);
      assertThat(noId.err()).contains("the inventory handshake needs --server-id");
      assertNoLeaks(restarted);
    }
    assertThat(second.code()).as(second.out() + second.err()).isZero();
    Map<String, Long> s = second.summary();
    assertThat(s).containsEntry("objects", 2000L)
        .containsEntry("hits", 2000L)
        .containsEntry("stale", 0L)
        .containsEntry("round_trips", 0L);
    assertThat(s.get("bytes")).as("warm bytes against cold").isLessThan(first.summary().get("bytes") / 20);
  }

  @Test
  void changesMadeAtStartUpAreStaleForTheClientAndTheRestHit() throws Exception {
    try (ServerProcess server = server()) {
      assertThat(client(server).code()).as("versions handshake without --server-id").isZero();
    }
    Run run;
    try (ServerProcess changed = server("--change-percent", "5")) {
      assertThat(changed.output()).contains("changed 100 objects (5.0%)");
      run = client(changed, "--server-id", changed.serverId());
      assertNoLeaks(changed);
    }
    assertThat(run.code()).as(run.out() + run.err()).isZero();
    assertThat(run.summary()).containsEntry("hits", 1900L).containsEntry("stale", 100L);

    // The changes were saved with their versions: the next start serves them as they are now.
    try (ServerProcess again = server()) {
      run = client(again);
    }
    assertThat(run.summary()).containsEntry("hits", 2000L).containsEntry("stale", 0L);
  }

  @Test
  void aFolderHoldsTheWorldOfOneServerKey() {
    ServerKey other = ServerKey.generate();
    try (WorldArchive archive = WorldArchive.open(serverDir)) {
      archive.saveWorld(other.serverId(), World.generate(20, 1));
    }
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new WorldServer());
    cmd.setErr(new PrintWriter(err, true));
    assertThat(cmd.execute("--port", "0", "--store", serverDir.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("holds the world of server id " + other.serverId())
        .contains("there is no " + WorldServer.KEY_FILE + " to prove it");

    ServerKey.generate().write(serverDir.resolve(WorldServer.KEY_FILE));
    err.getBuffer().setLength(0);
    assertThat(cmd.execute("--port", "0", "--store", serverDir.toString())).isEqualTo(1);
    assertThat(err.toString()).contains("is the key of server id pbj1-");
  }
}
