package io.pbj;

import static org.awaitility.Awaitility.await;

import io.pbj.Fixtures.Root;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the abstract suites share: a transport, a cleanup extension, a server with {@link Root}
 * as its root, and helpers to wait on futures (never by sleeping).
 */
@Timeout(60)
abstract class AbstractPbTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final Root root = new Root();

  abstract TestTransport transport();

  PbServer.Builder serverBuilder() {
    return transport().serverBuilder();
  }

  PbClient.Builder clientBuilder(PbServer server) {
    return transport().clientBuilder(server);
  }

  PbServer startServer(Consumer<PbServer.Builder> options) {
    PbServer.Builder b = serverBuilder().root(root);
    options.accept(b);
    return cleanup.register(b.build().start());
  }

  PbServer startServer() {
    return startServer(b -> b.registry(Fixtures.registry()));
  }

  PbClient client(PbServer server, Consumer<PbClient.Builder> options) {
    PbClient.Builder b = clientBuilder(server);
    options.accept(b);
    return cleanup.register(b.build());
  }

  RemoteReference connect(PbServer server) {
    return client(server, b -> b.registry(Fixtures.registry())).rootObject().join();
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  static Throwable failureOf(CompletableFuture<?> f) {
    try {
      f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError("expected the future to fail, got " + e, e);
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  /**
   * Waits until {@code done}, for as long as {@code progress} keeps growing: for work whose total
   * time grows with the load of the machine, where what is wrong is work that stops moving. Fails
   * when {@code progress} stays the same for {@code stall}, with {@code state} saying how far it
   * got.
   */
  static void awaitProgress(
      Duration stall, BooleanSupplier done, LongSupplier progress, Supplier<String> state) {
    while (!done.getAsBoolean()) {
      long before = progress.getAsLong();
      try {
        await()
            .atMost(stall)
            .until(() -> done.getAsBoolean() || progress.getAsLong() > before);
      } catch (ConditionTimeoutException e) {
        throw new AssertionError(
            "no progress for " + stall.toSeconds() + " s: " + state.get(), e);
      }
    }
  }
}
