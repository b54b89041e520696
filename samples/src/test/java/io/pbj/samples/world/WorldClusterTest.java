package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.publish.ServerKey;
import io.pbj.testing.PbCleanup;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Three {@code world-server --cluster} members in their own processes (Hazelcast on loopback, a
 * live world), and {@code world-client --server} given all three, run as its command in the
 * test's process: the member the client is attached to is killed (SIGKILL) while the world
 * changes; the client re-attaches to another member with every object unchanged since it last
 * had it a store hit, follows the world the surviving members go on changing, and ends equal to
 * the cluster's world, view and store.
 */
@Timeout(240)
class WorldClusterTest {
  private static final Pattern REATTACH = Pattern.compile("reattach n=1 at=\\S+ .*");

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @TempDir Path dir;

  /** A writer that collects what is written and counts down once a line starts with a text. */
  private static final class Watched extends StringWriter {
    final CountDownLatch attached = new CountDownLatch(1);

    @Override
    public void write(String s, int off, int len) {
      super.write(s, off, len);
      if (toString().contains("summary objects=")) {
        attached.countDown();
      }
    }
  }

  private static int[] freePorts(int n) throws IOException {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }

  private static Map<String, Long> fields(String line, String prefix) {
    assertThat(line).startsWith(prefix);
    Map<String, Long> fields = new LinkedHashMap<>();
    for (String part : line.substring(prefix.length()).trim().split(" ")) {
      String[] kv = part.split("=", 2);
      if (kv[1].matches("-?\\d+")) {
        fields.put(kv[0], Long.parseLong(kv[1]));
      }
    }
    return fields;
  }

  @Test
  void aClientFailsOverToAnotherMemberWithHitsForEveryUnchangedObjectAndEndsEqualToTheCluster()
      throws Exception {
    Path key = dir.resolve("cluster-key.pem");
    ServerKey.readOrCreate(key);    // one key file for every member
    int[] hz = freePorts(3);
    String members = "127.0.0.1:" + hz[0] + ",127.0.0.1:" + hz[1] + ",127.0.0.1:" + hz[2];
    // Quick joins and a quick verdict on a killed member, for a test that has to stay short.
    List<String> jvm = List.of("-Dhazelcast.wait.seconds.before.join=0",
        "-Dhazelcast.max.no.heartbeat.seconds=5", "-Dhazelcast.heartbeat.interval.seconds=1");
    long start = System.nanoTime();
    try (ServerProcess m1 = member(jvm, members, hz[0], key)) {
      CompletableFuture<ServerProcess> f2 = CompletableFuture.supplyAsync(
          () -> memberOrThrow(jvm, members, hz[1], key));
      CompletableFuture<ServerProcess> f3 = CompletableFuture.supplyAsync(
          () -> memberOrThrow(jvm, members, hz[2], key));
      try (ServerProcess m2 = f2.join(); ServerProcess m3 = f3.join()) {
        long started = System.nanoTime();
        assertThat(m1.output()).contains("loaded a new world into cluster pbj-test");
        assertThat(m2.serverId()).isEqualTo(m1.serverId()).isEqualTo(m3.serverId());
        assertThat(m2.output()).contains("joined cluster pbj-test");

        Watched out = new Watched();
        StringWriter err = new StringWriter();
        CommandLine cmd = new CommandLine(new WorldClient());
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        String servers = "127.0.0.1:" + m1.port() + ",127.0.0.1:" + m2.port()
            + ",127.0.0.1:" + m3.port();
        CompletableFuture<Integer> client = CompletableFuture.supplyAsync(() -> cmd.execute(
            "--server", servers, "--store", dir.resolve("client").toString(),
            "--server-id", m1.serverId(), "--follow", "12"));
        assertThat(out.attached.await(60, TimeUnit.SECONDS)).as(out + "\n" + err).isTrue();
        assertThat(out.toString()).contains("at " + servers);

        String leads = "this member runs the live simulation now";
        assertThat(m1.output()).as("the oldest member runs the simulation").contains(leads);
        assertThat(m2.output() + m3.output()).doesNotContain(leads);
        m1.kill();    // the member the client is attached to, and the one that ran the simulation

        int code = client.get(120, TimeUnit.SECONDS);
        String all = out + "\n" + err + "\nmember 2:\n" + m2.output() + "\nmember 3:\n"
            + m3.output();
        assertThat(code).as(all).isZero();
        List<String> lines = out.toString().lines().toList();
        String reattach = lines.stream().filter(l -> REATTACH.matcher(l).matches()).findFirst()
            .orElseThrow(() -> new AssertionError("no re-attach:\n" + all));
        assertThat(reattach).as("another member").doesNotContain(":" + m1.port() + " ");
        Map<String, Long> r = fields(reattach, "reattach");
        assertThat(r.get("missed")).as("every object unchanged since the kill is a store hit: "
            + all).isZero();
        assertThat(r.get("unchanged")).as("most objects did not change in the failover: " + all)
            .isGreaterThan(r.get("objects") / 2);
        assertThat(r.get("hits")).isGreaterThanOrEqualTo(r.get("unchanged"));
        assertThat(r.get("round_trips")).as("inventory mode: no extra round trip").isZero();

        Map<String, Long> f = fields(lines.get(lines.size() - 1), "follow");
        assertThat(f).as(all).containsEntry("mismatches", 0L);
        assertThat(m2.output() + m3.output()).as("another member took the simulation over")
            .containsOnlyOnce(leads);
        assertThat(f.get("deltas")).as("the client followed a live world").isPositive();
        assertThat(out.toString()).doesNotContain("MISMATCH");
        assertThat(m2.output() + m3.output()).doesNotContain("LEAK:");
        System.out.printf("cluster test: members started in %d ms, client run %d ms; %s%n",
            TimeUnit.NANOSECONDS.toMillis(started - start),
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), reattach);
      }
    }
  }

  private record Refusal(int code, String err) {}

  private static Refusal refusal(Object command, String... args) {
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(command);
    cmd.setOut(new PrintWriter(new StringWriter(), true));
    cmd.setErr(new PrintWriter(err, true));
    return new Refusal(cmd.execute(args), err.toString());
  }

  @Test
  void clusterOptionsAreCheckedBeforeAnythingStarts() {
    String key = dir.resolve("key.pem").toString();
    assertThat(refusal(new WorldServer(), "--port", "0", "--cluster", "c", "--members",
        "127.0.0.1:5701")).isEqualTo(new Refusal(2,
            "world-server: --cluster needs --key FILE, the same key file on every member\n"));
    assertThat(refusal(new WorldServer(), "--port", "0", "--cluster", "c", "--key", key).err())
        .contains("--cluster needs --members HOST:PORT");
    assertThat(refusal(new WorldServer(), "--port", "0", "--cluster", "c", "--key", key,
        "--members", "127.0.0.1")).isEqualTo(new Refusal(2,
            "world-server: --members takes HOST:PORT, got '127.0.0.1'\n"));
    assertThat(refusal(new WorldServer(), "--port", "0", "--cluster", "c", "--key", key,
        "--members", "127.0.0.1:5701", "--store", dir.toString()).err())
        .contains("--store is not taken with --cluster");
    assertThat(refusal(new WorldServer(), "--port", "0", "--store", dir.toString(), "--key", key))
        .isEqualTo(new Refusal(2, "world-server: --key is an option of --cluster\n"));
    assertThat(refusal(new WorldServer(), "--port", "0")).isEqualTo(new Refusal(2,
        "world-server: --store DIR is required (or --cluster NAME to serve as a member of an"
            + " origin cluster)\n"));
    assertThat(refusal(new WorldClient(), "--server", "127.0.0.1:1", "--port", "2", "--store",
        dir.toString()).err()).contains("either --server HOST:PORT,... or --host and --port");
    Refusal noPort = refusal(new WorldClient(), "--server", "127.0.0.1", "--store",
        dir.toString());
    assertThat(noPort.code()).isEqualTo(2);
    assertThat(noPort.err()).startsWith("world-client: --server: ").contains("127.0.0.1");
    assertThat(refusal(new WorldClient(), "--store", dir.toString()).err())
        .contains("give --port (and --host), or --server HOST:PORT,...");
  }

  private static ServerProcess member(List<String> jvm, String members, int hzPort, Path key)
      throws Exception {
    return ServerProcess.start(jvm, "--cluster", "pbj-test", "--members", members,
        "--hz-port", Integer.toString(hzPort), "--key", key.toString(), "--host", "127.0.0.1",
        "--port", "0", "--objects", "400", "--live", "20");
  }

  private static ServerProcess memberOrThrow(
      List<String> jvm, String members, int hzPort, Path key) {
    try {
      return member(jvm, members, hzPort, key);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
