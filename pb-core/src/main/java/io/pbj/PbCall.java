package io.pbj;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One remote call as {@link CallInterceptor}s and {@link PbListener}s see it: which side sees it,
 * the connection, the method's remote name, the target, the arguments and the perspective.
 *
 * <pre>{@code
 * CallInterceptor rejectBigBatches = (call, next) -> {
 *   if (call.method().equals("put") && call.arguments().size() > 100) {
 *     return CompletableFuture.failedFuture(
 *         new PbException(PbException.Code.BAD_ARGUMENTS, "at most 100 per put"));
 *   }
 *   return next.proceed();
 * };
 * }</pre>
 *
 * <p>Thread-safety: immutable (the arguments are the call's own objects, shown read-only; do not
 * change them).
 */
public final class PbCall {

  /** Which end of the connection sees the call. Thread-safety: immutable. */
  public enum Side {
    /** This side makes the call (a {@link RemoteReference} was called). */
    CLIENT,
    /** This side runs the call (a {@code @Remote} method of a local object). */
    SERVER
  }

  private final Side side;
  private final PbConnection connection;
  private final String method;
  private final Object target;
  private final List<Object> arguments;
  private final Object perspective;
  private final boolean oneWay;

  /**
   * For the broker, and for tests of interceptors.
   *
   * @param target on the client side the {@link RemoteReference}, on the server side the local
   *     object
   * @param perspective on the server side the connection's logged-in perspective, or null
   */
  public PbCall(
      Side side,
      PbConnection connection,
      String method,
      Object target,
      Object[] arguments,
      Object perspective,
      boolean oneWay) {
    this.side = side;
    this.connection = connection;
    this.method = method;
    this.target = target;
    this.arguments =
        arguments == null ? List.of() : Collections.unmodifiableList(Arrays.asList(arguments));
    this.perspective = perspective;
    this.oneWay = oneWay;
  }

  /** Whether this side makes the call or runs it. */
  public Side side() {
    return side;
  }

  /** The connection the call goes over (client) or came over (server). */
  public PbConnection connection() {
    return connection;
  }

  /** The remote name of the method. */
  public String method() {
    return method;
  }

  /**
   * What is called: on the client side the {@link RemoteReference}, on the server side the local
   * object whose {@code @Remote} method runs.
   */
  public Object target() {
    return target;
  }

  /**
   * The arguments as sent (client) or received (server); for a {@link Viewable} target without
   * the perspective the broker puts in front.
   */
  public List<Object> arguments() {
    return arguments;
  }

  /**
   * On the server side the perspective (avatar) the connection is logged in as, or null before
   * login; null on the client side.
   */
  public Object perspective() {
    return perspective;
  }

  /** True for a one-way call, which has no answer. */
  public boolean oneWay() {
    return oneWay;
  }

  @Override
  public String toString() {
    return "PbCall[" + side + " " + method + (oneWay ? " one-way" : "") + " on " + connection + "]";
  }
}
