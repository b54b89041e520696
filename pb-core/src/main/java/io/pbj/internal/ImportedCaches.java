package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.RemoteCache;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the peer's pushes to this side's {@link RemoteCache}s: update method calls and whole
 * states (after the peer coalesced), on the sequential executor so that they run one at a time and
 * in arrival order with incoming calls. A push for a cache that has not had its first state yet
 * waits for it; a push for a cache released meanwhile is dropped. After each push applied, the
 * cache's update listeners run (same thread, same order). A push that fails here (no such method,
 * bad arguments, the method threw, undecodable values) is logged and reported to the peer in one
 * UPDATE_FAILED notice, so that the side that pushed it learns its copy drifted.
 *
 * <p>Thread-safety: thread-safe; pushes arrive on the event loop and run on the sequential
 * executor.
 */
final class ImportedCaches {
  private static final Logger log = LoggerFactory.getLogger(ImportedCaches.class);
  private static final LogLimiter UNDECODABLE = new LogLimiter(10);
  private static final LogLimiter FAILED = new LogLimiter(10);
  private static final LogLimiter NOT_REPORTED = new LogLimiter(10);

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

  /** A push whose values could not be decoded: logged, and reported to the peer. */
  void undecodable(Message.UndecodablePush bad) {
    UNDECODABLE.warn(
        log,
        "{}: dropped a cache update that could not be decoded: {}",
        connection,
        bad.cause().getMessage());
    // in order with the pushes before it, like the failures of pushes that did decode
    sequential.execute(
        () ->
            report(
                bad.cacheId(),
                bad.method() == null ? STATE : bad.method(),
                bad.cause().code(),
                bad.cause().getMessage()));
  }

  /** The method name a whole-state push is reported under. */
  static final String STATE = "setState";

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
    CacheHandle handle = CacheHandle.of(cache);
    // the listeners see the arguments as the method got them (references adapted)
    Object[] args = update.args();
    try {
      RemoteMethods.invoke(RemoteMethods.find(cache.getClass(), update.method()), cache, args);
    } catch (Throwable t) {
      FAILED.warn(
          log,
          "{}: update '{}' of {} failed",
          connection,
          update.method(),
          cache.getClass().getName(),
          t);
      failed(update.cacheId(), update.method(), cache, t);
      return;
    } finally {
      CurrentCall.restore(outer);
    }
    handle.updated(cache, update.method(), args, false);
  }

  /** Tells the peer that its push {@code method} failed here with {@code t}. */
  private void failed(int cacheId, String method, RemoteCache cache, Throwable t) {
    PbException.Code code =
        t instanceof PbException pb
                && (pb.code() == PbException.Code.NO_SUCH_METHOD
                    || pb.code() == PbException.Code.BAD_ARGUMENTS)
            ? pb.code()
            : PbException.Code.REMOTE_FAILURE;
    String detail =
        code == PbException.Code.REMOTE_FAILURE
            ? cache.getClass().getName() + "." + method + " threw " + t
            : ((PbException) t).detail();
    report(cacheId, method, code, detail);
  }

  /**
   * Sends one UPDATE_FAILED notice, trimmed to fit the receiver's limit. Only while the channel
   * can take it: a peer that pushes failing updates and does not read must not make this side
   * queue notices without bound (a short push can cost a notice of a few hundred bytes), so a
   * notice that would wait is dropped; the failure is still logged here.
   */
  private void report(int cacheId, String method, PbException.Code code, String detail) {
    if (!connection.isOpen()) {
      return;
    }
    if (!connection.isWritable()) {
      NOT_REPORTED.warn(
          log, "{}: did not report a failed update to the peer: it is not reading", connection);
      return;
    }
    try {
      connection.send(
          new Message.UpdateFailed(
              cacheId,
              trim(method, Wire.NOTICE_METHOD_CHARS),
              code.name(),
              trim(detail, Wire.NOTICE_DETAIL_CHARS)));
    } catch (RuntimeException e) {
      log.debug("{}: could not report a failed update: {}", connection, e.toString());
    }
  }

  private static String trim(String s, int chars) {
    if (s == null || s.length() <= chars) {
      return s;
    }
    int end = Character.isHighSurrogate(s.charAt(chars - 1)) ? chars - 1 : chars;
    return s.substring(0, end);
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
        failed(state.cacheId(), STATE, cache, e);
        return;
      }
      CacheHandle.of(cache).updated(cache, STATE, new Object[] {state.state()}, true);
    }
  }
}
