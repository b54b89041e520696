package io.pbj.samples.echo;

import io.pbj.PbClient;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code echo-client --port P TEXT}: prints TEXT as echoed. With {@code --count N [--pipeline W]}
 * makes N calls, W in flight, and prints {@code calls_per_s=<number>}.
 */
@Command(name = "echo-client", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Call an echo server; optionally measure calls per second.")
public final class EchoClient implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", required = true, description = "Server TCP port.")
  int port;

  @Option(names = "--count", description = "Number of calls to make and time.")
  Integer count;

  @Option(names = "--pipeline", defaultValue = "1", description = "Calls in flight (default ${DEFAULT-VALUE}).")
  int pipeline;

  @Parameters(index = "0", description = "Text to echo.")
  String text;

  @Override
  public Integer call() throws Exception {
    if (pipeline < 1) {
      System.err.println("echo-client: --pipeline must be at least 1, got " + pipeline);
      return 2;
    }
    if (count != null && count < 1) {
      System.err.println("echo-client: --count must be at least 1, got " + count);
      return 2;
    }
    try (PbClient client = PbClient.builder().address(host, port).build()) {
      EchoService.Api echo = client.rootObject().get(30, TimeUnit.SECONDS).as(EchoService.Api.class);
      if (count == null) {
        System.out.println(echo.echo(text).get(30, TimeUnit.SECONDS));
        return 0;
      }
      return measure(echo);
    } catch (java.util.concurrent.ExecutionException e) {
      System.err.println("echo-client: " + e.getCause().getMessage());
      return 1;
    }
  }

  private int measure(EchoService.Api echo) throws Exception {
    Semaphore window = new Semaphore(pipeline);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < count && failure.get() == null; i++) {
      window.acquire();
      CompletableFuture<String> f = echo.echo(text);
      f.whenComplete((r, t) -> {
        if (t != null) {
          failure.compareAndSet(null, t);
        }
        window.release();
      });
    }
    window.acquire(pipeline);
    long nanos = System.nanoTime() - start;
    if (failure.get() != null) {
      System.err.println("echo-client: " + failure.get().getMessage());
      return 1;
    }
    double perSecond = count / (nanos / 1e9);
    System.out.printf(Locale.ROOT, "calls=%d pipeline=%d seconds=%.3f calls_per_s=%.0f%n",
        count, pipeline, nanos / 1e9, perSecond);
    return 0;
  }
}
