package io.pbj.internal;

import io.pbj.RemoteCache;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the peer's pushes to this side's {@link RemoteCache}s: update method calls and whole
 * states (after the peer coalesced), on the sequential executor so that they run one at a time and
 * in arrival order with incoming calls. A push for a cache that has not had its first state yet
 * waits for it; a push for a cache released meanwhile is dropped.
 *
 * <p>Thread-safety: thread-safe; pushes arrive on the event loop and run on the sequential
 * executor.
 */
final class ImportedCaches {
  private static final Logger log = LoggerFactory.getLogger(ImportedCaches.class);
  private static final LogLimiter UNDECODABLE = new LogLimiter(10);
  private static final LogLimiter FAILED = new LogLimiter(10);

  private final Connection connection;
  private final ImportTable imports;
  private final Executor sequential;

  /**
   * @param connection the connection the caches arrived on (for log lines and {@link CurrentCall})
   * @param sequential the connection's executor for incoming calls, one at a time in order
   */
  ImportedCaches(Connection connection, ImportTable imports, Executor sequential) {
    this.connection = connection;
    this.imports = imports;
    this.sequential = sequential;
  }

  void update(Message.CacheUpdate update, List<Runnable> inits) {
    sequential.execute(() -> applyUpdate(update, inits));
  }

  void state(Message.CacheState state, List<Runnable> inits) {
    sequential.execute(() -> applyState(state, inits));
  }

  /** A push whose values could not be decoded: there is no one to answer, so it is logged. */
  void undecodable(Message.Undecodable bad) {
    UNDECODABLE.warn(
        log,
        "{}: dropped a cache update that could not be decoded: {}",
        connection,
        bad.cause().getMessage());
  }

  private void applyUpdate(Message.CacheUpdate update, List<Runnable> inits) {
    ReferenceReader.initialise(inits);
    RemoteCache cache = imports.cache(update.cacheId());
    if (cache == null) {
      return; // released here while the update was in flight
    }
    if (CacheHandle.of(cache).deferUntilInitialised(() -> applyUpdate(update, List.of()))) {
      return;
    }
    CurrentCall.Frame outer =
        CurrentCall.enter(
            new CurrentCall.Frame(connection, connection.perspective(), update.method()));
    try {
      RemoteMethods.invoke(
          RemoteMethods.find(cache.getClass(), update.method()), cache, update.args());
    } catch (Throwable t) {
      FAILED.warn(
          log,
          "{}: update '{}' of {} failed",
          connection,
          update.method(),
          cache.getClass().getName(),
          t);
    } finally {
      CurrentCall.restore(outer);
    }
  }

  private void applyState(Message.CacheState state, List<Runnable> inits) {
    ReferenceReader.initialise(inits);
    RemoteCache cache = imports.cache(state.cacheId());
    if (cache != null
        && !CacheHandle.of(cache).deferUntilInitialised(() -> applyState(state, List.of()))) {
      try {
        CacheHandle.setState(cache, state.state());
      } catch (RuntimeException e) {
        FAILED.warn(log, "{}: setState of {} failed", connection, cache.getClass().getName(), e);
      }
    }
  }
}
