package io.pbj.samples.world;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code world-server} running in its own JVM, started from the test's class path, with Netty's
 * leak detector at paranoid as in the tests. {@link #start} returns once the server printed its
 * listening line; {@link #close} stops it the way a person would (SIGTERM) and waits for it.
 *
 * <p>Thread-safety: used by one test thread; the output is collected by a reader thread.
 */
final class ServerProcess implements AutoCloseable {
  private static final Pattern LISTENING =
      Pattern.compile("world-server listening on port (\\d+) \\(server id (\\S+), (\\d+) objects\\)");

  private final Process process;
  private final List<String> output = new ArrayList<>();
  private final CompletableFuture<Matcher> listening = new CompletableFuture<>();

  private ServerProcess(Process process) {
    this.process = process;
    Thread reader = new Thread(this::read, "world-server-output");
    reader.setDaemon(true);
    reader.start();
  }

  /**
   * Starts {@code world-server} with {@code args} and waits (up to 120 s) until it listens. Two
   * cluster members starting together on a loaded two-core machine took up to 50 s between them.
   */
  static ServerProcess start(String... args) throws Exception {
    return start(List.of(), args);
  }

  /** As {@link #start(String...)}, with more JVM options ({@code -Dname=value}). */
  static ServerProcess start(List<String> jvmOptions, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"),
        // Quick start-up on a busy machine: the client's numbers are what the tests measure.
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Dio.netty.leakDetection.level=paranoid",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
    command.addAll(jvmOptions);
    command.addAll(List.of("io.pbj.samples.Samples", "world-server"));
    command.addAll(List.of(args));
    ServerProcess p = new ServerProcess(new ProcessBuilder(command).redirectErrorStream(true).start());
    try {
      p.listening.get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      p.close();
      throw new AssertionError("world-server did not start listening; output:\n" + p.output(), e);
    }
    return p;
  }

  private void read() {
    try (BufferedReader in = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = in.readLine()) != null; ) {
        synchronized (output) {
          output.add(line);
        }
        Matcher m = LISTENING.matcher(line);
        if (m.matches()) {
          listening.complete(m);
        }
      }
    } catch (IOException e) {
      // the process went away: fall through
    }
    listening.completeExceptionally(new IllegalStateException("world-server exited"));
  }

  int port() {
    return Integer.parseInt(listening.join().group(1));
  }

  String serverId() {
    return listening.join().group(2);
  }

  int objects() {
    return Integer.parseInt(listening.join().group(3));
  }

  String output() {
    synchronized (output) {
      return String.join("\n", output);
    }
  }

  /** Kills the server at once (SIGKILL: no shutdown hook runs) and waits until it is gone. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("world-server did not die on SIGKILL");
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      throw new AssertionError("world-server did not stop on SIGTERM; output:\n" + output());
    }
  }
}
