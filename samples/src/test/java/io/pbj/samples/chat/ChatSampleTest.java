package io.pbj.samples.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The chat sample over loopback TCP: two users talking, and a bad password. */
@Timeout(60)
class ChatSampleTest {
  private PbServer server;
  @TempDir Path dir;

  @BeforeEach
  void start() {
    server =
        ChatServer.build("127.0.0.1", 0, Map.of("alice", "secret", "bob", "hunter2")).start();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  /** Runs the client with its own output streams; returns exit code, stdout, stderr. */
  private record Run(int code, String out, String err) {}

  private Run client(String... args) {
    return client(Map.of(), args);
  }

  private Run client(Map<String, String> env, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    ChatClient chat = new ChatClient();
    chat.environment = env;
    CommandLine cl = new CommandLine(chat);
    // ChatClient prints with System.out; runs in these tests happen on their own threads, so
    // capture through a per-thread stream.
    PerThreadStream.OUT.set(new PrintStream(out, true, StandardCharsets.UTF_8));
    PerThreadStream.ERR.set(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      int code = cl.execute(args);
      return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    } finally {
      PerThreadStream.OUT.remove();
      PerThreadStream.ERR.remove();
    }
  }

  /** The arguments for {@code user}, whose password is in a file (the way to pass it). */
  private String[] args(String user, String password, String... more) {
    Path file = dir.resolve(user + ".password");
    try {
      Files.writeString(file, password + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return with(new String[] {"--password-file", file.toString()}, base(user, more));
  }

  private String[] base(String user, String... more) {
    return with(new String[] {
      "--port", Integer.toString(server.port()), "--user", user, "--room", "lobby",
      "--timeout", "20"
    }, more);
  }

  private static String[] with(String[] base, String... more) {
    String[] all = new String[base.length + more.length];
    System.arraycopy(base, 0, all, 0, base.length);
    System.arraycopy(more, 0, all, base.length, more.length);
    return all;
  }

  @Test
  void twoUsersSeeEachOthersMessagesInTheReplicatedRoom() throws Exception {
    PerThreadStream.install();
    CompletableFuture<Run> bob =
        CompletableFuture.supplyAsync(
            () -> client(args("bob", "hunter2", "--say", "hello alice", "--wait-for", "hi bob")));
    Run alice = client(args("alice", "secret", "--wait-for", "hello alice", "--say", "hi bob"));
    Run bobRun = bob.get(30, TimeUnit.SECONDS);
    assertThat(alice.code()).as(alice.err()).isZero();
    assertThat(bobRun.code()).as(bobRun.err()).isZero();
    assertThat(bobRun.out()).contains("alice: hi bob").contains("bob: hello alice");
    assertThat(alice.out()).contains("bob: hello alice");
  }

  @Test
  void thePasswordCanComeFromTheEnvironment() {
    PerThreadStream.install();
    Run run = client(Map.of(ChatClient.PASSWORD_ENV, "secret"), base("alice", "--say", "hi"));
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("alice: hi");
    assertThat(run.err()).doesNotContain("warning");
  }

  @Test
  void theOldPasswordFlagStillWorksButWarns() {
    PerThreadStream.install();
    Run run = client(with(new String[] {"--password", "secret"}, base("alice", "--say", "old")));
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.err()).contains("warning: --password shows the password to every user");
  }

  @Test
  void withoutAnyPasswordSourceItExitsWith2AndSaysWhere() {
    PerThreadStream.install();
    // no file, no PBJ_PASSWORD, and no console under the test runner
    Run run = client(base("alice"));
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--password-file").contains(ChatClient.PASSWORD_ENV);
  }

  @Test
  void badPasswordExitsWithCode2AndSaysLogin() {
    PerThreadStream.install();
    Run run = client(args("alice", "wrong"));
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("login");
    Run unknown = client(args("mallory", "secret"));
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("login");
  }
}
