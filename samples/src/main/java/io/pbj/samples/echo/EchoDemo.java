package io.pbj.samples.echo;

import io.pbj.PbClient;
import io.pbj.PbServer;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code echo-demo}: the echo server and client in one process over loopback TCP: one call, then
 * a short timed run of pipelined calls.
 */
@Command(name = "echo-demo", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Run the echo server and client embedded in one process.")
public final class EchoDemo implements Callable<Integer> {
  @Option(names = "--count", defaultValue = "20000", description = "Calls in the timed run (default ${DEFAULT-VALUE}).")
  int count;

  @Override
  public Integer call() throws Exception {
    try (PbServer server =
            PbServer.builder().address("127.0.0.1", 0).root(new EchoService()).build().start();
        PbClient client = PbClient.builder().address("127.0.0.1", server.port()).build()) {
      System.out.println("server listening on " + server.localAddress());
      EchoService.Api echo =
          client.rootObject().get(30, TimeUnit.SECONDS).as(EchoService.Api.class);
      System.out.println("echoed: " + echo.echo("hello, PBJ").get(30, TimeUnit.SECONDS));
      int window = 64;
      java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(window);
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        inFlight.acquire();
        CompletableFuture<String> f = echo.echo("x");
        f.whenComplete((r, t) -> inFlight.release());
      }
      inFlight.acquire(window);
      double seconds = (System.nanoTime() - start) / 1e9;
      System.out.printf(Locale.ROOT, "calls=%d pipeline=%d seconds=%.3f calls_per_s=%.0f%n",
          count, window, seconds, count / seconds);
      return 0;
    }
  }
}
