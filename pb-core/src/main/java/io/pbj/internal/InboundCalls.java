package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.pbj.PbCall;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRemoteException;
import io.pbj.Viewable;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The answers table of one connection: the peer's calls that this side is running, by request
 * id. Starts each call in arrival order on the connection's sequential executor (a call to a
 * {@link io.pbj.Remote#direct()} method on the event loop itself, when that keeps the order),
 * passes the
 * calling perspective to {@link Viewable} targets, answers with the result or the failure, and
 * lets a call be cancelled before or while it runs.
 *
 * <p>Thread-safety: thread-safe. Calls arrive on the event loop and run on the sequential
 * executor; an asynchronous result answers from whatever thread completes it.
 */
final class InboundCalls {
  private static final Logger log = LoggerFactory.getLogger(InboundCalls.class);
  private static final LogLimiter ONE_WAY_FAILURES = new LogLimiter(10);

  /**
   * The incoming call running on this thread, for {@link #goodbyeAfterReply}; the public view of
   * it is {@link CurrentCall}.
   */
  private static final ThreadLocal<Call> CURRENT = new ThreadLocal<>();

  private final Connection connection;
  private final ExportTable exports;
  private final CallSequence sequential;
  private final Executor executor;
  private final Map<Integer, Call> running = new ConcurrentHashMap<>();

  /**
   * @param sequential runs calls one at a time, in arrival order
   * @param executor where cancellations of asynchronous results run
   */
  InboundCalls(
      Connection connection, ExportTable exports, CallSequence sequential, Executor executor) {
    this.connection = connection;
    this.exports = exports;
    this.sequential = sequential;
    this.executor = executor;
  }

  /** One incoming call: can be cancelled before or while it runs. */
  private static final class Call {
    final Message.Call message;
    volatile boolean cancelled;
    volatile CompletableFuture<?> result;
    volatile String goodbyeReason;

    Call(Message.Call message) {
      this.message = message;
    }

    void cancel(Executor executor) {
      cancelled = true;
      CompletableFuture<?> f = result;
      if (f != null) {
        Handoff.execute(executor, () -> f.cancel(true));
      }
    }
  }

  /** A call arrived (event loop): the caches in its arguments get their state, then it runs. */
  void receive(Message.Call message, List<Runnable> inits) {
    Call call = new Call(message);
    if (!message.oneWay()) {
      running.put(message.requestId(), call);
    }
    if (inits.isEmpty()
        && isDirect(message)
        && sequential.runHereIfIdle(
            () -> CallFuture.runOnEventLoop(() -> invoke(call)),
            connection.channel().eventLoop())) {
      return;
    }
    sequential.execute(
        () -> {
          ReferenceReader.initialise(inits);
          invoke(call);
        });
  }

  /** Whether the call is to a {@link io.pbj.Remote#direct()} method of an exported object. */
  private boolean isDirect(Message.Call message) {
    Object target = exports.lookup(message.target());
    return target != null && RemoteMethods.isDirect(target.getClass(), message.method());
  }

  /** The peer no longer wants the answer to {@code requestId}. */
  void cancel(int requestId) {
    Call call = running.remove(requestId);
    if (call != null) {
      call.cancel(executor);
    }
  }

  /** A call whose arguments could not be decoded: answered with the reason (one-way: dropped). */
  void refuse(Message.Undecodable bad) {
    if (bad.requestId() != 0) {
      reply(bad.requestId(), bad.cause());
    }
  }

  /** The connection is gone: cancel every running call. */
  void cancelAll() {
    for (Call call : running.values()) {
      call.cancel(executor);
    }
    running.clear();
  }

  /**
   * Asks for a goodbye with {@code reason} once the answer of the call running on this thread is
   * written; returns false when no incoming call runs on this thread.
   */
  static boolean goodbyeAfterReply(String reason) {
    Call current = CURRENT.get();
    if (current == null) {
      return false;
    }
    current.goodbyeReason = reason;
    return true;
  }

  /**
   * Runs one incoming call; on the sequential executor. An {@link Error} (out of memory, stack
   * overflow) while running or answering it closes the connection that caused it, and is logged,
   * rather than escaping to the executor's thread.
   */
  private void invoke(Call call) {
    try {
      invokeTarget(call);
    } catch (Error e) {
      connection.internalError("call to '" + call.message.method() + "'", e);
    }
  }

  private void invokeTarget(Call call) {
    if (call.cancelled) {
      return;
    }
    Message.Call message = call.message;
    Object result;
    try {
      Object target = exports.lookup(message.target());
      if (target == null) {
        throw new PbException(
            Code.NO_SUCH_OBJECT,
            "no object #" + message.target() + " is exported on this connection");
      }
      RemoteMethods.Target method = RemoteMethods.find(target.getClass(), message.method());
      Object[] args = message.args();
      Object perspective = connection.perspective();
      if (target instanceof Viewable) {
        Object[] withPerspective = new Object[args.length + 1];
        withPerspective[0] = perspective;
        System.arraycopy(args, 0, withPerspective, 1, args.length);
        args = withPerspective;
      }
      // restored, not removed: a call may run another on this thread (a direct executor)
      Call outer = CURRENT.get();
      CurrentCall.Frame outerFrame =
          CurrentCall.enter(new CurrentCall.Frame(connection, perspective, message.method()));
      CURRENT.set(call);
      try {
        Observability watch = connection.config().observability();
        if (watch.watchesCalls()) {
          Object[] withArgs = args;
          result =
              watch.call(
                  new PbCall(PbCall.Side.SERVER, connection, message.method(), target,
                      message.args(), perspective, message.oneWay()),
                  () -> invokeNow(method, target, withArgs));
        } else {
          result = RemoteMethods.invoke(method, target, args);
        }
      } finally {
        CurrentCall.restore(outerFrame);
        if (outer == null) {
          CURRENT.remove();
        } else {
          CURRENT.set(outer);
        }
      }
    } catch (Throwable t) {
      finish(call, null, t);
      return;
    }
    if (result instanceof CompletionStage<?> stage) {
      CompletableFuture<?> future = stage.toCompletableFuture();
      call.result = future;
      if (call.cancelled) {
        future.cancel(true);
      }
      future.whenComplete(
          (r, t) -> {
            try {
              finish(call, r, t);
            } catch (Error e) {
              connection.internalError("answer to '" + call.message.method() + "'", e);
            }
          });
    } else {
      finish(call, result, null);
    }
  }

  /** The method's outcome as a future, for the interceptors: a failure too, never a throw. */
  private static CompletableFuture<Object> invokeNow(
      RemoteMethods.Target method, Object target, Object[] args) {
    try {
      Object result = RemoteMethods.invoke(method, target, args);
      if (result instanceof CompletionStage<?> stage) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Object> f = (CompletableFuture<Object>) stage.toCompletableFuture();
        return f;
      }
      return CompletableFuture.completedFuture(result);
    } catch (Throwable t) {
      return CompletableFuture.failedFuture(t);
    }
  }

  private void finish(Call call, Object result, Throwable failure) {
    try {
      answer(call.message, result, failure);
    } finally {
      String reason = call.goodbyeReason;
      if (reason != null) {
        connection.goodbye(reason);
      }
    }
  }

  private void answer(Message.Call message, Object result, Throwable failure) {
    if (failure != null && Errors.unwrap(failure) instanceof Error error) {
      running.remove(message.requestId());
      connection.internalError("call to '" + message.method() + "'", error);
      return;
    }
    if (message.oneWay()) {
      if (failure != null) {
        ONE_WAY_FAILURES.warn(
            log,
            "{}: one-way call to '{}' failed",
            connection,
            message.method(),
            Errors.unwrap(failure));
      }
      return;
    }
    Call call = running.remove(message.requestId());
    if (call == null || call.cancelled) {
      return;
    }
    if (failure != null) {
      Throwable cause = Errors.unwrap(failure);
      if (!(cause instanceof PbException) || cause instanceof PbRemoteException) {
        log.debug("{}: remote method '{}' failed", connection, message.method(), cause);
      }
      reply(message.requestId(), cause);
      return;
    }
    int requestId = message.requestId();
    ByteBuf buf;
    try {
      buf = connection.encode(new Message.Answer(requestId, result));
    } catch (PbException pb) {
      if (pb.code() == Code.LIMIT_EXCEEDED) {
        connection.limitExceeded(pb);
      }
      reply(requestId, pb);
      return;
    }
    connection.write(buf);
  }

  private void reply(int requestId, Throwable cause) {
    connection.send(
        new Message.Error(requestId, Errors.toWire(cause, connection.config().sendStackTraces())));
  }
}
