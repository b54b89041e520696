package io.pbj.bench.rpc;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a stack in a JVM of its own, started with this JVM's options and class path, so that the
 * JIT profile one stack leaves behind cannot slow another.
 *
 * <p>Both ends of a line protocol live here. The child answers {@code READY} once its stack has
 * started; each {@code MEASURE <bytes> <firstRound>} gets a {@link Measurement#toLine()} line;
 * {@code QUIT} (or end of input) closes the stack, and the child's JVM must then exit by itself.
 * A failure is a {@code FAILED <reason>} line. Logs go to the inherited standard error.
 *
 * <p>Thread-safety: not thread-safe; one measurement at a time.
 */
final class ForkedRunner implements StackRunner {
  private static final String READY = "READY";
  private static final String FAILED = "FAILED";
  private static final String MEASURE = "MEASURE";
  private static final String QUIT = "QUIT";
  private static final long EXIT_TIMEOUT_SECONDS = 30;

  private final StackKind kind;
  private final Process process;
  private final BufferedReader fromChild;
  private final Writer toChild;
  private boolean closed;

  /** Starts the child JVM and waits until its stack is up. */
  ForkedRunner(StackKind kind, Options options) throws IOException {
    this.kind = kind;
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(RpcBench.class.getName());
    command.addAll(options.serveArguments(kind));
    process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    fromChild =
        new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    toChild = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
    try {
      awaitAnswer(READY);
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  @Override
  public Measurement measure(int payloadBytes, boolean firstRound) throws IOException {
    toChild.write(MEASURE + " " + payloadBytes + " " + firstRound + "\n");
    toChild.flush();
    return Measurement.parse(awaitAnswer(Measurement.class.getSimpleName()))
        .orElseThrow(() -> new IOException(kind.id() + " JVM sent a malformed result"));
  }

  /** Reads lines until an answer: {@code READY}, a result, or {@code FAILED} (thrown). */
  private String awaitAnswer(String expected) throws IOException {
    for (String line; (line = fromChild.readLine()) != null; ) {
      if (line.equals(READY) || Measurement.parse(line).isPresent()) {
        return line;
      }
      if (line.startsWith(FAILED + " ")) {
        throw new IOException(line.substring(FAILED.length() + 1));
      }
      System.err.println("[" + kind.id() + "] " + line); // stray output from a library
    }
    throw new IOException(kind.id() + " JVM ended while " + expected + " was awaited");
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      toChild.write(QUIT + "\n");
      toChild.close();
    } catch (IOException alreadyGone) {
      // the child has exited; waitFor below reports how
    }
    try {
      if (!process.waitFor(EXIT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        System.err.println(
            "rpc: " + kind.id() + " JVM did not exit " + EXIT_TIMEOUT_SECONDS
                + " s after its stack closed (a thread left running); killing it");
        process.destroyForcibly();
      } else if (process.exitValue() != 0) {
        System.err.println("rpc: " + kind.id() + " JVM exited with status " + process.exitValue());
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * The child's side: starts {@code kind}'s stack and answers the parent's requests on standard
   * input and output until told to quit. Returns once the stack is closed.
   */
  static void serve(StackKind kind, Options options) throws IOException {
    PrintStream out = System.out;
    InProcessRunner runner;
    try {
      runner = new InProcessRunner(kind, options.settings());
    } catch (Exception e) {
      e.printStackTrace();
      out.println(FAILED + " " + describe(e));
      out.flush();
      return;
    }
    try (runner) {
      out.println(READY);
      out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null && !line.equals(QUIT); ) {
        String[] words = line.split(" ");
        if (words.length != 3 || !words[0].equals(MEASURE)) {
          out.println(FAILED + " unknown request '" + line + "'");
        } else {
          try {
            Measurement measurement =
                runner.measure(Integer.parseInt(words[1]), Boolean.parseBoolean(words[2]));
            out.println(measurement.toLine());
          } catch (Exception e) {
            e.printStackTrace();
            out.println(FAILED + " " + describe(e));
          }
        }
        out.flush();
      }
    }
  }

  /** A one-line description of {@code e} for the table. */
  static String describe(Throwable e) {
    String message = e.getClass().getSimpleName() + ": " + e.getMessage();
    return message.replace('\n', ' ').replace('|', '/');
  }
}
