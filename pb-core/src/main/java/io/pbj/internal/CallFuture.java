package io.pbj.internal;

import io.pbj.PbException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The future of one outgoing call, which can hand its completion to a caller blocked on it. The
 * connection delivers every completion through its {@link CompletionQueue}, so completions run one
 * at a time in the order the answers arrived. A thread that blocks in {@link #get()} or {@link
 * #join()} before the answer arrives is handed the completion to run itself when the queue is idle
 * at that moment (as gRPC's blocking calls do with a thread-less executor): one thread wake-up
 * fewer, the order unchanged, and user code still never runs on the event loop. When earlier
 * completions are still queued or running, this one waits its turn on the executor and the blocked
 * caller waits for it. The one exception: a completion's own callback that blocks on a later
 * call's future runs that future's completion itself, ahead of its turn, since waiting for its
 * turn would wait forever. Cancelling the future cancels the call. An expected result type, if
 * any, is checked as the answer completes it.
 *
 * <p>The hand-off is a small state machine:
 *
 * <pre>
 *   IDLE --deliver--> DISPATCHED --its turn in the queue--> RUNNING
 *   IDLE --a caller blocks--> WAITING --deliver, queue idle--> HANDED (the waiter runs it)
 *   WAITING --deliver, queue busy--> DISPATCHED (the waiter waits for the queue)
 *   WAITING --the wait times out or is interrupted--> IDLE
 *   DISPATCHED --a callback of the same queue blocks on it--> RUNNING (run by that callback)
 * </pre>
 *
 * Exactly one thread runs the completion: whoever moves the state to RUNNING, or the waiter that
 * was HANDED it.
 *
 * <p>Thread-safety: thread-safe; {@link #deliver} is called once, by the connection.
 */
final class CallFuture extends CompletableFuture<Object> {
  private static final Logger log = LoggerFactory.getLogger(CallFuture.class);

  private static final int IDLE = 0;
  private static final int WAITING = 1;
  private static final int HANDED = 2;
  private static final int DISPATCHED = 3;
  private static final int RUNNING = 4;

  private final int requestId;
  private final String method;
  private final Class<?> resultType;
  private final IntConsumer onCancel;
  private final AtomicInteger handoffState = new AtomicInteger(IDLE);
  private final AtomicReference<Thread> waiter = new AtomicReference<>();
  private final AtomicBoolean cancelReported = new AtomicBoolean();
  private volatile Runnable handoff;
  private volatile CompletionQueue queue;

  /**
   * Set while user code runs on an event loop (a direct completion or direct method): a get() or
   * join() there on an unanswered call would wait for an answer that this very thread may have to
   * read, freezing every connection of the loop for good, so it fails at once instead (as Netty's
   * own futures do with BlockingOperationException).
   */
  private static final ThreadLocal<Boolean> ON_EVENT_LOOP = new ThreadLocal<>();

  /**
   * @param resultType the type the answer must have, or null for any
   * @param onCancel told the request id when this future is cancelled
   */
  CallFuture(int requestId, String method, Class<?> resultType, IntConsumer onCancel) {
    this.requestId = requestId;
    this.method = method;
    this.resultType = resultType;
    this.onCancel = onCancel;
  }

  /** Completes with an answer, checking its type; called from the delivered completion. */
  void answer(Object result) {
    if (resultType != null) {
      try {
        result = RealRemoteReference.castResult(resultType, method, result);
      } catch (PbException e) {
        completeExceptionally(e);
        return;
      }
    }
    complete(result);
  }

  /**
   * Runs {@code completion} in its turn on {@code queue}, or in the blocked caller if there is one
   * and the queue is idle.
   */
  void deliver(Runnable completion, CompletionQueue queue) {
    this.handoff = completion;
    this.queue = queue;
    while (true) {
      int state = handoffState.get();
      if (state == WAITING) {
        if (queue.tryClaimIdle()) {
          if (handoffState.compareAndSet(WAITING, HANDED)) {
            LockSupport.unpark(waiter.get());
            return;
          }
          queue.releaseClaim(); // the waiter gave up meanwhile: look again
        } else if (handoffState.compareAndSet(WAITING, DISPATCHED)) {
          enqueue(completion, queue);
          LockSupport.unpark(waiter.get()); // it waits for the queue now
          return;
        }
      } else if (state == IDLE) {
        if (handoffState.compareAndSet(IDLE, DISPATCHED)) {
          enqueue(completion, queue);
          return;
        }
      } else {
        return;
      }
    }
  }

  /**
   * As {@link #deliver}, but when no caller waits and {@code queue} is idle, runs {@code
   * completion} here, on the calling thread (the event loop: {@code directCompletions}), so the
   * order of completions holds as well.
   */
  void deliverDirect(Runnable completion, CompletionQueue queue) {
    if (handoffState.get() == IDLE && queue.tryClaimIdle()) {
      this.handoff = completion;
      this.queue = queue;
      if (handoffState.compareAndSet(IDLE, RUNNING)) {
        try {
          runOnEventLoop(completion);
        } catch (RuntimeException e) {
          // as on the queue: a failing completion must not reach the event loop's pipeline
          log.warn("a call completion failed", e);
        } finally {
          queue.releaseClaim();
        }
        return;
      }
      queue.releaseClaim(); // a caller started waiting meanwhile: hand it over the ordinary way
    }
    deliver(completion, queue);
  }

  /** Fails if user code on the event loop is about to block on {@code what}, not yet done. */
  private static void failIfOnEventLoop(String what) {
    if (ON_EVENT_LOOP.get() != null) {
      throw new IllegalStateException(
          "get() or join() on "
              + what
              + " from a direct method or direct completion, which runs on the event loop: it"
              + " would block the loop, which may have to read that very answer; chain it"
              + " (thenCompose, thenAccept) instead");
    }
  }

  /**
   * The futures chained on a call ({@code thenApply}, ...): a get() or join() on one that is not
   * done fails from user code on the event loop, as on the call's own future.
   */
  static final class Dependent<T> extends CompletableFuture<T> {
    @Override
    public T get() throws InterruptedException, ExecutionException {
      if (!isDone()) {
        failIfOnEventLoop("a future chained on a call");
      }
      return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit)
        throws InterruptedException, ExecutionException, TimeoutException {
      if (!isDone()) {
        failIfOnEventLoop("a future chained on a call");
      }
      return super.get(timeout, unit);
    }

    @Override
    public T join() {
      if (!isDone()) {
        failIfOnEventLoop("a future chained on a call");
      }
      return super.join();
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new Dependent<>();
    }
  }

  /** Runs {@code task}, user code on the event loop, so that blocking on a call fails fast. */
  static void runOnEventLoop(Runnable task) {
    Boolean outer = ON_EVENT_LOOP.get();
    ON_EVENT_LOOP.set(Boolean.TRUE);
    try {
      task.run();
    } finally {
      if (outer == null) {
        ON_EVENT_LOOP.remove();
      }
    }
  }

  private void enqueue(Runnable completion, CompletionQueue queue) {
    queue.execute(
        () -> {
          if (handoffState.compareAndSet(DISPATCHED, RUNNING)) {
            completion.run();
          }
        });
  }

  /**
   * Runs the completion here if it is queued behind the completion this thread is running (a
   * callback blocking on a later call): waiting for its turn would never end.
   */
  private boolean runIfQueuedBehindMe() {
    CompletionQueue q = queue;
    if (q != null && q.isRunningHere() && handoffState.compareAndSet(DISPATCHED, RUNNING)) {
      handoff.run();
      return true;
    }
    return false;
  }

  /**
   * Waits for the hand-off as the executor of this call's completion. Returns false if the
   * caller should wait the ordinary way (the queue runs the completion, or time ran out).
   */
  private boolean awaitHandoff(long deadline, boolean timed, boolean interruptible)
      throws InterruptedException {
    if (isDone()) {
      return true;
    }
    failIfOnEventLoop("the unanswered call '" + method + "' (request " + requestId + ")");
    Thread me = Thread.currentThread();
    while (true) {
      int state = handoffState.get();
      if (state == DISPATCHED) {
        return runIfQueuedBehindMe();
      } else if (state == IDLE) {
        if (!waiter.compareAndSet(null, me)) {
          return false; // another thread is the designated waiter
        }
        if (handoffState.compareAndSet(IDLE, WAITING)) {
          break;
        }
        waiter.set(null); // dispatched meanwhile: look again
      } else {
        return false; // handed to another waiter, or running: wait for it the ordinary way
      }
    }
    boolean interrupted = false;
    try {
      while (true) {
        int state = handoffState.get();
        if (state == HANDED) {
          try {
            handoff.run();
          } finally {
            queue.releaseClaim();
          }
          return true;
        }
        if (state != WAITING) {
          waiter.set(null); // queued behind earlier completions
          return runIfQueuedBehindMe();
        }
        if (isDone() || interrupted || (timed && deadline - System.nanoTime() <= 0)) {
          if (handoffState.compareAndSet(WAITING, IDLE)) {
            waiter.set(null);
            if (interrupted && interruptible) {
              interrupted = false; // reported by the exception rather than the flag
              throw new InterruptedException();
            }
            return isDone();
          }
          continue; // handed over or queued meanwhile: look again
        }
        if (timed) {
          LockSupport.parkNanos(this, deadline - System.nanoTime());
        } else {
          LockSupport.park(this);
        }
        if (Thread.interrupted()) {
          interrupted = true;
        }
      }
    } finally {
      // an interrupt not reported by InterruptedException stays set, even when get() returns the
      // answer handed over with it (as CompletableFuture.get does)
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public Object get() throws InterruptedException, ExecutionException {
    awaitHandoff(0, false, true);
    return super.get();
  }

  @Override
  public Object get(long timeout, TimeUnit unit)
      throws InterruptedException, ExecutionException, TimeoutException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    awaitHandoff(deadline, true, true);
    return super.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  @Override
  public Object join() {
    try {
      awaitHandoff(0, false, false);
    } catch (InterruptedException e) {
      throw new AssertionError(e); // not thrown when uninterruptible
    }
    return super.join();
  }

  @Override
  public boolean complete(Object value) {
    boolean done = super.complete(value);
    wakeWaiter();
    return done;
  }

  @Override
  public boolean completeExceptionally(Throwable ex) {
    boolean done = super.completeExceptionally(ex);
    wakeWaiter();
    return done;
  }

  private void wakeWaiter() {
    Thread t = waiter.get();
    if (t != null && t != Thread.currentThread()) {
      LockSupport.unpark(t);
    }
  }

  @Override
  public boolean cancel(boolean mayInterruptIfRunning) {
    boolean cancelled = super.cancel(mayInterruptIfRunning);
    wakeWaiter();
    // CompletableFuture.cancel answers true again once cancelled: tell the request id only once
    if (cancelled && cancelReported.compareAndSet(false, true)) {
      onCancel.accept(requestId);
    }
    return cancelled;
  }

  @Override
  public <U> CompletableFuture<U> newIncompleteFuture() {
    return new Dependent<>();
  }
}
