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
}
