package io.pbj;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a public method of a {@link Referenceable} as callable from the other side of a
 * connection. Methods without it cannot be called remotely: a call to them fails with
 * {@link PbException.Code#NO_SUCH_METHOD}.
 *
 * <p>The remote name of the method is its Java name unless {@link #value()} gives another. A
 * method may return a plain value, {@code void}, or a {@link java.util.concurrent.CompletionStage}
 * that answers the call when it completes. Remote method names must be unique per class
 * (overloads are refused when the class is first used, naming {@code Class.method}).
 *
 * <p>Thread-safety: an annotation; immutable.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Remote {
  /** The remote name; empty for the method's own name. */
  String value() default "";

  /**
   * Runs the method on the network thread (the Netty event loop) that read the call, instead of
   * handing it to the broker's executor: two thread hand-offs fewer per call (the one to the
   * executor and the one back for the answer), for methods that answer at once, like gRPC's
   * {@code directExecutor()}. Default false.
   *
   * <p><b>Warning: the method runs on the event loop.</b> It must never block (no I/O, no lock
   * held for long, no {@code get()} or {@code join()} on a future, not even a remote call's: one on
   * an unanswered call fails at once with an {@link IllegalStateException}) and
   * must return quickly: while it runs, no connection served by that event loop reads or writes
   * anything. A method that returns a {@link java.util.concurrent.CompletionStage} may complete
   * it later from any thread.
   *
   * <p>Order is kept: calls on one connection still start in arrival order. A direct call runs on
   * the event loop only when no earlier call of its connection waits or runs (and none of its
   * arguments is a new cache whose state must be set first, which is user code); otherwise it
   * waits its turn on the executor like any other. A direct method that throws answers the call
   * with the failure, as any other method does.
   *
   * <pre>{@code
   * @Remote(direct = true)
   * public long position() { return position; } // a volatile read: never blocks
   * }</pre>
   */
  boolean direct() default false;
}
