package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.lang.ref.Reference;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The questions table of one connection: the calls and pings this side sent that wait for an
 * answer, by request id or nonce. Sends calls, matches answers, errors and pongs to them, cancels
 * them, and fails all of them when the connection goes.
 *
 * <p>Threads: calls are encoded and written on the calling thread; answers arrive on the event
 * loop and complete their futures one at a time, in arrival order, through a {@link
 * CompletionQueue} on the executor (or in a caller blocked on the future, see {@link
 * CallFuture}; or, with {@code directCompletions}, on the event loop itself when the queue is
 * idle); pings complete on the executor.
 *
 * <p>Thread-safety: thread-safe.
 */
final class OutboundCalls {
  private final Connection connection;
  private final Executor executor;
  private final CompletionQueue completions;
  /** Whether answers complete their futures on the event loop ({@code directCompletions}). */
  private final boolean direct;
  private final Map<Integer, CallFuture> pending = new ConcurrentHashMap<>();
  private final Map<Long, CompletableFuture<Void>> pings = new ConcurrentHashMap<>();
  private final AtomicInteger nextRequestId = new AtomicInteger();
  private final AtomicLong nextPingNonce = new AtomicLong();
  private final LongAdder callsSent = new LongAdder();

  /**
   * @param executor where ping futures and one-way sends complete, and call completions run
   */
  OutboundCalls(Connection connection, Executor executor) {
    this.connection = connection;
    this.executor = executor;
    this.completions = new CompletionQueue(executor);
    this.direct = connection.config().directCompletions();
  }

  /** Calls {@code method} on the peer's object {@code target}; the answer must be a {@code resultType} (null: any). */
  CompletableFuture<Object> call(int target, String method, Object[] args, Class<?> resultType) {
    int id = nextRequestId.incrementAndGet();
    CallFuture future = new CallFuture(id, method, resultType, this::cancel);
    pending.put(id, future);
    if (!connection.isOpen()) {
      pending.remove(id);
      future.completeExceptionally(deadConnection());
      return future;
    }
    callsSent.increment();
    ByteBuf buf;
    try {
      buf = connection.encode(new Message.Call(id, target, method, args, false));
    } catch (PbException e) {
      pending.remove(id);
      future.completeExceptionally(sendFailure(e, method));
      return future;
    }
    connection
        .write(buf)
        .addListener(
            f -> {
              if (!f.isSuccess() && pending.remove(id) != null) {
                PbException cause = sendFailure(f.cause(), method);
                future.deliver(() -> future.completeExceptionally(cause), completions);
              }
            });
    // a proxy passed as an argument must not be released before its call is on the wire
    Reference.reachabilityFence(args);
    return future;
  }

  /** Calls {@code method} without an answer; the future completes when the call is written. */
  CompletableFuture<Void> callOneWay(int target, String method, Object[] args) {
    CompletableFuture<Void> sent = new CompletableFuture<>();
    if (!connection.isOpen()) {
      sent.completeExceptionally(deadConnection());
      return sent;
    }
    callsSent.increment();
    ByteBuf buf;
    try {
      buf = connection.encode(new Message.Call(0, target, method, args, true));
    } catch (PbException e) {
      sent.completeExceptionally(sendFailure(e, method));
      return sent;
    }
    connection
        .write(buf)
        .addListener(
            f -> {
              if (f.isSuccess()) {
                Handoff.complete(executor, sent, null);
              } else {
                Handoff.fail(executor, sent, sendFailure(f.cause(), method));
              }
            });
    return sent;
  }

  /** Sends a ping; the future completes when the pong arrives. */
  CompletableFuture<Void> ping() {
    long nonce = nextPingNonce.incrementAndGet();
    CompletableFuture<Void> f = new CompletableFuture<>();
    pings.put(nonce, f);
    if (!connection.isOpen()) {
      pings.remove(nonce);
      f.completeExceptionally(deadConnection());
      return f;
    }
    connection
        .send(new Message.Ping(nonce))
        .addListener(
            w -> {
              if (!w.isSuccess() && pings.remove(nonce) != null) {
                Handoff.fail(executor, f, sendFailure(w.cause(), "ping"));
              }
            });
    return f;
  }

  /** The caller gave up on call {@code requestId}: forget it and tell the peer. */
  void cancel(int requestId) {
    if (pending.remove(requestId) != null && connection.isOpen()) {
      connection.send(new Message.Cancel(requestId));
    }
  }

  /** An answer arrived: new caches in it get their state first, then the call completes. */
  void answered(Message.Answer answer, List<Runnable> inits) {
    CallFuture f = pending.remove(answer.requestId());
    if (f != null && direct && inits.isEmpty()) {
      f.deliverDirect(() -> f.answer(answer.result()), completions);
    } else if (f != null) {
      // updates for the new caches wait until their states are set, so set them first
      f.deliver(
          () -> {
            ReferenceReader.initialise(inits);
            f.answer(answer.result());
          },
          completions);
    } else {
      Handoff.execute(executor, () -> ReferenceReader.initialise(inits));
    }
  }

  /** An error arrived for a call. */
  void failed(Message.Error error) {
    CallFuture f = pending.remove(error.requestId());
    if (f != null) {
      Throwable cause = Errors.fromWire(error.error(), connection.config().registry());
      if (direct) {
        f.deliverDirect(() -> f.completeExceptionally(cause), completions);
      } else {
        f.deliver(() -> f.completeExceptionally(cause), completions);
      }
    }
  }

  /** An answer arrived whose value could not be decoded: its call fails with the reason. */
  void undecodable(Message.Undecodable bad) {
    CallFuture f = pending.remove(bad.requestId());
    if (f != null) {
      f.deliver(() -> f.completeExceptionally(bad.cause()), completions);
    }
  }

  void pong(long nonce) {
    CompletableFuture<Void> f = pings.remove(nonce);
    if (f != null) {
      Handoff.complete(executor, f, null);
    }
  }

  /** The connection is gone: every pending call and ping fails with {@code cause}. */
  void failAll(PbException cause) {
    for (Integer id : List.copyOf(pending.keySet())) {
      CallFuture f = pending.remove(id);
      if (f != null) {
        f.deliver(() -> f.completeExceptionally(cause), completions);
      }
    }
    for (Long nonce : List.copyOf(pings.keySet())) {
      CompletableFuture<Void> p = pings.remove(nonce);
      if (p != null) {
        Handoff.fail(executor, p, cause);
      }
    }
  }

  long callsSent() {
    return callsSent.sum();
  }

  private PbException sendFailure(Throwable cause, String method) {
    if (cause instanceof PbException pb) {
      if (pb.code() == Code.LIMIT_EXCEEDED) {
        connection.limitExceeded(pb);
      }
      return pb;
    }
    PbException going = connection.failureCause(); // the reason, not the broken write it caused
    if (going != null) {
      return going;
    }
    return new PbException(
        Code.CONNECTION_LOST, "could not send call to '" + method + "': " + cause, cause);
  }

  private PbException deadConnection() {
    PbException cause = connection.closeCause();
    return new PbException(
        Code.DEAD_REFERENCE,
        "the connection is gone" + (cause == null ? "" : " (" + cause.detail() + ")"),
        cause);
  }
}
