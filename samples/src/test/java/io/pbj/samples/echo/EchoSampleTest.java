package io.pbj.samples.echo;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The echo client against a real server on loopback, as the samples document it. */
class EchoSampleTest {
  private PbServer server;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream savedOut;
  private PrintStream savedErr;

  @BeforeEach
  void start() {
    server = PbServer.builder().address("127.0.0.1", 0).root(new EchoService()).build().start();
    savedOut = System.out;
    savedErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void stop() {
    System.setOut(savedOut);
    System.setErr(savedErr);
    server.close();
  }

  private int run(String... args) {
    return new CommandLine(new EchoClient()).execute(args);
  }

  @Test
  void echoClientPrintsTheTextAsEchoed() {
    assertThat(run("--port", Integer.toString(server.port()), "hello there")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("hello there" + System.lineSeparator());
  }

  @Test
  void echoClientWithCountPrintsCallsPerSecond() {
    assertThat(run("--port", Integer.toString(server.port()), "--count", "500", "--pipeline", "8", "x"))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).containsPattern("calls_per_s=\\d+");
  }

  @Test
  void echoClientRefusesABadPipelineWithExitCode2() {
    assertThat(run("--port", Integer.toString(server.port()), "--count", "5", "--pipeline", "0", "x"))
        .isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--pipeline must be at least 1");
  }

  @Test
  void echoClientReportsAnUnreachableServer() {
    int port = server.port();
    server.close();
    assertThat(run("--port", Integer.toString(port), "x")).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("cannot connect");
  }
}
