package io.pbj.bench.rpc;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import java.net.InetAddress;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * PBJ called the way the samples and most users write asynchronous calls (the {@code echo-client}
 * sample): through a typed proxy ({@code ref.as(EchoApi.class)}), with callbacks rather than
 * {@code get()}. Server and client use all defaults, as {@link PbjStack} does, so the distance
 * between the two is what the way of calling costs.
 *
 * <ul>
 *   <li>{@link Style#CALLBACK}: each sequential call is {@code whenComplete} releasing a semaphore
 *       the caller waits on, as {@code echo-client --count N} does; pipelined calls are {@code
 *       whenComplete} and a semaphore of the window's size (the harness's own pipelined run), as
 *       {@code echo-client --pipeline 64} does.
 *   <li>{@link Style#CHAIN}: each sequential call is made from the previous call's callback, on
 *       whatever thread runs it; pipelined as above.
 *   <li>{@link Style#GET}: each sequential call is {@code get()} on the proxy's future (the
 *       one-shot path of the samples); pipelined as above.
 * </ul>
 *
 * <p>Thread-safety: as {@link Stack}; {@link #sequential} runs one chain at a time.
 */
final class PbjCallbackStack implements Stack {
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(5);

  /** How sequential calls are written. */
  enum Style {
    CALLBACK,
    CHAIN,
    GET
  }

  /** The client's typed view of {@link PbjStack.EchoRoot}, as a sample declares it. */
  public interface EchoApi {
    CompletableFuture<byte[]> echo(byte[] payload);
  }

  private final Style style;
  private PbServer server;
  private PbClient client;
  private RemoteReference root;
  private EchoApi echo;

  PbjCallbackStack(Style style) {
    this.style = style;
  }

  @Override
  public void start() throws Exception {
    server = PbServer.builder().port(0).root(new PbjStack.EchoRoot()).build().start();
    client =
        PbClient.builder()
            .address(InetAddress.getLoopbackAddress().getHostAddress(), server.port())
            .build();
    root = client.rootObject().get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    echo = root.as(EchoApi.class);
  }

  @Override
  public byte[] call(byte[] payload) throws Exception {
    if (style == Style.GET) {
      return echo.echo(payload).get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
    Semaphore answered = new Semaphore(0);
    AtomicReference<Object> outcome = new AtomicReference<>();
    echo.echo(payload)
        .whenComplete(
            (echoed, error) -> {
              outcome.set(error != null ? error : echoed);
              answered.release();
            });
    if (!answered.tryAcquire(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      throw new TimeoutException("no answer after " + CALL_TIMEOUT_SECONDS + " s");
    }
    if (outcome.get() instanceof Throwable error) {
      throw new IllegalStateException("call failed: " + error, error);
    }
    return (byte[]) outcome.get();
  }

  @Override
  public CompletionStage<byte[]> callAsync(byte[] payload) {
    return echo.echo(payload);
  }

  @Override
  public int sequential(byte[] payload, long[] nanos, long deadline, Consumer<byte[]> check)
      throws Exception {
    if (style != Style.CHAIN) {
      return Stack.super.sequential(payload, nanos, deadline, check);
    }
    Chain chain = new Chain(payload, nanos, deadline, check);
    chain.next(0);
    try {
      return chain.done.get(CALL_TIMEOUT_SECONDS + nanos.length / 1_000, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("chained call failed: " + e.getCause(), e.getCause());
    }
  }

  /** Calls made one from the callback of the one before, each timed from start to callback. */
  private final class Chain {
    final byte[] payload;
    final long[] nanos;
    final long deadline;
    final Consumer<byte[]> check;
    final CompletableFuture<Integer> done = new CompletableFuture<>();

    Chain(byte[] payload, long[] nanos, long deadline, Consumer<byte[]> check) {
      this.payload = payload;
      this.nanos = nanos;
      this.deadline = deadline;
      this.check = check;
    }

    /** Starts call {@code index}; an answer already there is taken here rather than nested. */
    void next(int index) {
      int i = index;
      while (true) {
        long start = System.nanoTime();
        CompletableFuture<byte[]> answer = echo.echo(payload);
        if (!answer.isDone()) {
          int current = i;
          answer.whenComplete(
              (echoed, error) -> {
                if (answered(current, start, echoed, error)) {
                  next(current + 1);
                }
              });
          return;
        }
        byte[] echoed = null;
        Throwable error = null;
        try {
          echoed = answer.join();
        } catch (RuntimeException e) {
          error = e.getCause() != null ? e.getCause() : e;
        }
        if (!answered(i, start, echoed, error)) {
          return;
        }
        i++;
      }
    }

    /** Records call {@code index}; true if another should follow. */
    boolean answered(int index, long start, byte[] echoed, Throwable error) {
      long end = System.nanoTime();
      if (error != null) {
        done.completeExceptionally(error);
        return false;
      }
      try {
        check.accept(echoed);
      } catch (RuntimeException wrong) {
        done.completeExceptionally(wrong);
        return false;
      }
      nanos[index] = end - start;
      if (index + 1 >= nanos.length || end - deadline > 0) {
        done.complete(index + 1);
        return false;
      }
      return true;
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (root != null) {
      root.close();
    }
    if (client != null) {
      client.shutdown();
      client.awaitTermination(SHUTDOWN_TIMEOUT);
    }
    if (server != null) {
      server.shutdown();
      server.awaitTermination(SHUTDOWN_TIMEOUT);
    }
  }
}
