package io.pbj.internal;

import io.pbj.CallInterceptor;
import io.pbj.PbCall;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbListener;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place the broker reports to {@link CallInterceptor}s, the {@link PbListener} and JFR:
 * one hook on each side of a call ({@link #call}), one for a Cacheable push ({@link #push}), and
 * connection and backpressure events. With no interceptor, no listener and no JFR recording,
 * {@link #watchesCalls} is false and the call paths skip all of it.
 *
 * <p>Thread-safety: thread-safe; its one mutable part, the connections being opened, is a
 * concurrent map. It never calls a listener or interceptor on
 * a network thread: connection and backpressure events go to the executor (a connection's
 * opening through its call sequence, ahead of its calls), call events run where the call runs or
 * completes.
 */
final class Observability {
  private static final Logger log = LoggerFactory.getLogger(Observability.class);
  private static final LogLimiter LISTENER_FAILURES = new LogLimiter(10);

  static final Observability NONE = new Observability(new CallInterceptor[0], null);

  /** Only asked whether the event is enabled, which does not depend on the instance. */
  private static final CallEvent PROBE = new CallEvent();

  private final CallInterceptor[] interceptors;
  private final PbListener listener;

  private Observability(CallInterceptor[] interceptors, PbListener listener) {
    this.interceptors = interceptors;
    this.listener = listener;
  }

  static Observability of(List<CallInterceptor> interceptors, PbListener listener) {
    if (interceptors.isEmpty() && listener == null) {
      return NONE;
    }
    return new Observability(interceptors.toArray(new CallInterceptor[0]), listener);
  }

  /** Whether calls must go through {@link #call}: something intercepts, listens or records. */
  boolean watchesCalls() {
    return interceptors.length > 0 || listener != null || PROBE.isEnabled();
  }

  // ---- calls ----

  /**
   * Runs {@code call} through the interceptors to {@code terminal} (which sends the call, or runs
   * the method, and never throws), reporting its start and end; returns the outcome the caller
   * (client) or the answer path (server) sees.
   */
  CompletableFuture<Object> call(PbCall call, Supplier<CompletableFuture<Object>> terminal) {
    CallEvent event = new CallEvent();
    boolean recording = event.isEnabled();
    if (recording) {
      event.begin();
    }
    long start = System.nanoTime();
    if (listener != null) {
      report(() -> listener.callStarted(call));
    }
    Inner inner = new Inner(terminal);
    CompletableFuture<Object> outcome = proceed(0, call, inner);
    if (outcome != inner.future && inner.future != null) {
      // cancelling what the caller holds cancels the call underneath
      outcome.whenComplete(
          (r, t) -> {
            if (outcome.isCancelled()) {
              inner.future.cancel(true);
            }
          });
    }
    if (listener == null && !recording) {
      return outcome;
    }
    // the caller sees the outcome after the listener and the recording did: a test, or a
    // dashboard, that looks once the call returned finds it counted
    CompletableFuture<Object> reported =
        outcome.whenComplete(
            (r, t) -> {
            Throwable failure = t == null ? null : PbException.unwrap(t);
            if (listener != null) {
              long nanos = System.nanoTime() - start;
              report(() -> listener.callEnded(call, nanos, failure));
            }
            if (recording) {
              event.end();
              if (event.shouldCommit()) {
                event.side = call.side().name();
                event.method = call.method();
                event.target =
                    call.side() == PbCall.Side.CLIENT
                        ? String.valueOf(call.target())
                        : call.target().getClass().getName();
                event.remoteAddress = String.valueOf(call.connection().remoteAddress());
                event.oneWay = call.oneWay();
                event.outcome = outcome(failure);
                event.failure = failure == null ? null : failure.getMessage();
                event.commit();
              }
            }
          });
    reported.whenComplete(
        (r, t) -> {
          if (reported.isCancelled()) {
            outcome.cancel(true);
          }
        });
    return reported;
  }

  /** The call itself, and the future it returned once it ran. */
  private static final class Inner {
    final Supplier<CompletableFuture<Object>> terminal;
    CompletableFuture<Object> future;

    Inner(Supplier<CompletableFuture<Object>> terminal) {
      this.terminal = terminal;
    }
  }

  private CompletableFuture<Object> proceed(int index, PbCall call, Inner inner) {
    if (index == interceptors.length) {
      if (inner.future != null) {
        return CompletableFuture.failedFuture(
            new PbException(
                PbException.Code.INTERCEPTOR_FAILED,
                "call interceptor " + interceptors[index - 1].getClass().getName()
                    + " proceeded twice with '" + call.method() + "'"));
      }
      inner.future = inner.terminal.get();
      return inner.future;
    }
    CallInterceptor interceptor = interceptors[index];
    CompletableFuture<Object> f;
    try {
      f = interceptor.intercept(call, () -> proceed(index + 1, call, inner));
    } catch (PbException e) {
      return CompletableFuture.failedFuture(e);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(
          new PbException(
              PbException.Code.INTERCEPTOR_FAILED,
              "call interceptor " + interceptor.getClass().getName() + " failed on '"
                  + call.method() + "': " + e,
              e));
    }
    if (f == null) {
      return CompletableFuture.failedFuture(
          new PbException(
              PbException.Code.INTERCEPTOR_FAILED,
              "call interceptor " + interceptor.getClass().getName() + " returned null for '"
                  + call.method() + "'"));
    }
    return f;
  }

  private static String outcome(Throwable failure) {
    if (failure == null) {
      return "OK";
    }
    return failure instanceof PbException pb ? pb.code().name() : failure.getClass().getName();
  }

  // ---- pushes, connections, backpressure ----

  /** Reports the outcome of a Cacheable push; returns {@code pushed}. */
  /** Whether a listener hears of pushes (else {@link #push} need not be called). */
  boolean watchesPushes() {
    return listener != null;
  }

  CompletableFuture<Void> push(
      Connection connection, Class<?> cacheable, String method, CompletableFuture<Void> pushed) {
    if (listener == null) {
      return pushed;
    }
    if (pushed.isDone()) {
      pushed(connection, cacheable, method, pushed);
    } else {
      // a write completes on the event loop: the listener hears of it on the executor
      pushed.whenCompleteAsync(
          (r, t) -> pushed(connection, cacheable, method, pushed), connection.executor());
    }
    return pushed;
  }

  private void pushed(
      PbConnection connection, Class<?> cacheable, String method, CompletableFuture<Void> f) {
    Throwable failure = f.isCompletedExceptionally() ? failureOf(f) : null;
    report(
        () -> {
          if (failure == null) {
            listener.pushSent(connection, cacheable, method);
          } else {
            listener.pushFailed(connection, cacheable, method, failure);
          }
        });
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    try {
      f.join();
      return null;
    } catch (RuntimeException e) {
      return PbException.unwrap(e);
    }
  }

  /**
   * Connections whose opening is being reported, until their close is: on a pool executor two
   * tasks may run in either order, and a close must never reach the listener before its opening.
   */
  private final Map<Connection, Once> opening = new ConcurrentHashMap<>();

  /**
   * On the event loop, after the handshake and before the first incoming call is read: reported
   * on {@code callSequence}, the connection's sequence of incoming calls and pushes, so that the
   * listener hears of the connection before any of its calls (on the pool, a busy executor may
   * run the first call before the report, and a listener would see a call of a connection it
   * does not know).
   */
  void opened(Connection connection, Executor callSequence) {
    if (listener != null) {
      // made once, by whichever asks first: the call sequence, or the close when it gets there
      // first (its calls then wait, briefly, until the close has reported the opening)
      Once o = new Once(() -> report(() -> listener.connectionOpened(connection)));
      opening.put(connection, o);
      callSequence.execute(o::runOrAwait);
    }
  }

  /**
   * On the event loop, once, after {@link #opened} if the handshake completed. The opening is
   * reported first if the call sequence has not run its report yet (a closed connection's
   * sequence may hold its tasks back for good).
   */
  void closed(Connection connection, PbException cause) {
    if (listener != null) {
      Runnable event = () -> report(() -> listener.connectionClosed(connection, cause));
      Once o = opening.remove(connection);
      if (o == null) {
        Handoff.execute(connection.executor(), event);
      } else {
        Handoff.execute(connection.executor(), () -> {
          o.run();
          o.done().whenComplete((v, t) -> Handoff.execute(connection.executor(), event));
        });
      }
    }
  }

  void backpressure(Connection connection, PbListener.Pressure pressure, String detail) {
    if (listener != null) {
      Handoff.execute(
          connection.executor(),
          () -> report(() -> listener.backpressure(connection, pressure, detail)));
    }
  }

  private void report(Runnable event) {
    try {
      event.run();
    } catch (RuntimeException e) {
      LISTENER_FAILURES.warn(log, "event listener {} failed", listener, e);
    }
  }
}
