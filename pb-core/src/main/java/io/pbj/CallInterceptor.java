package io.pbj;

import java.util.concurrent.CompletableFuture;

/**
 * Sees every remote call on one side of a broker and may wrap it: time it, log it, check it, or
 * fail it. The smaller cousin of grpc-java's {@code ClientInterceptor} and {@code
 * ServerInterceptor}: one interface for both sides ({@link PbCall#side()} tells them apart), one
 * method, and the outcome as a {@link CompletableFuture}.
 *
 * <p>Interceptors are installed with {@link BrokerBuilder#interceptors} and run in the order
 * given: the first one sees the call first and its future last. Each calls {@link
 * Next#proceed()} at most once to go on to the next interceptor (the last one's {@code proceed}
 * sends the call, on the calling side, or runs the {@code @Remote} method, on the called side),
 * and returns a future of the outcome: the one {@code proceed} returned, one derived from it, or
 * a failed one to refuse the call.
 *
 * <pre>{@code
 * CallInterceptor audit = (call, next) -> {
 *   if (call.side() == PbCall.Side.SERVER && call.perspective() == null
 *       && !call.method().equals("login")) {
 *     throw new PbException(PbException.Code.UNAUTHORIZED, "log in before " + call.method());
 *   }
 *   long start = System.nanoTime();
 *   return next.proceed().whenComplete((result, failure) ->
 *       log.info("{} took {} µs", call.method(), (System.nanoTime() - start) / 1000));
 * };
 * PbServer.builder().port(7000).root(lobby).interceptors(audit).build().start();
 * }</pre>
 *
 * <p>Threads: on the calling side an interceptor runs on the thread that made the call; on the
 * called side on the thread that runs the remote method (the broker's executor, in arrival
 * order), with {@link CallContext#current()} set. Neither is a network thread. Stages added to
 * the future of {@code proceed} run where that future completes: the executor, never a network
 * thread.
 *
 * <p>Failures: an interceptor that throws a {@link PbException} fails that call with it; one
 * that throws anything else fails the call with {@link PbException.Code#INTERCEPTOR_FAILED},
 * naming the interceptor and the method. Nothing else is affected: the connection and other
 * calls go on. On the called side the caller receives the failure as an answer. A result an
 * interceptor substitutes must be of the type the caller expects.
 *
 * <p>Cancelling the future the caller holds cancels the call underneath. One-way calls are
 * intercepted too: their future completes with null once the call is written.
 *
 * <p>Thread-safety: an interceptor is shared by every connection of its broker and called from
 * many threads at once; it must be thread-safe.
 */
@FunctionalInterface
public interface CallInterceptor {

  /**
   * Intercepts {@code call}; returns the future of its outcome, usually derived from {@code
   * next.proceed()}.
   */
  CompletableFuture<Object> intercept(PbCall call, Next next);

  /**
   * The rest of the chain for one call: the next interceptor, or the call itself.
   *
   * <p>Thread-safety: call it from the interceptor's thread, at most once.
   */
  @FunctionalInterface
  interface Next {
    /** Goes on with the call; returns the future of its outcome. */
    CompletableFuture<Object> proceed();
  }
}
