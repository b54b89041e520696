package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.PbException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Every transition of {@link CallFuture}'s hand-off, forced one at a time: the executor is a queue
 * this test runs by hand, and a blocked caller is known to be parked in the hand-off when its
 * thread is WAITING with the future itself as its park blocker (an ordinary wait parks on a
 * CompletableFuture Signaller instead).
 */
class CallFutureTest {
  private static final int REQUEST_ID = 7;
  private static final Duration PATIENCE = Duration.ofSeconds(10);

  private final QueuedExecutor executor = new QueuedExecutor();
  private final CompletionQueue queue = new CompletionQueue(executor);
  private final List<Integer> cancelled = new CopyOnWriteArrayList<>();
  private final List<Thread> runners = new CopyOnWriteArrayList<>();
  private final List<Caller> callers = new ArrayList<>();
  private final CallFuture future = new CallFuture(REQUEST_ID, "price", null, cancelled::add);

  /** The ways a caller blocks on the future. */
  enum Wait {
    GET {
      @Override
      Object await(CompletableFuture<Object> f) throws Exception {
        return f.get();
      }
    },
    TIMED_GET {
      @Override
      Object await(CompletableFuture<Object> f) throws Exception {
        return f.get(1, TimeUnit.MINUTES);
      }
    },
    JOIN {
      @Override
      Object await(CompletableFuture<Object> f) {
        return f.join();
      }
    };

    abstract Object await(CompletableFuture<Object> f) throws Exception;
  }

  /** A thread blocked on a future, and what its call returned or threw. */
  private final class Caller {
    final Thread thread;
    final CompletableFuture<Object> outcome = new CompletableFuture<>();
    volatile boolean interruptFlagAfterwards;

    Caller(String name, Wait wait, CompletableFuture<Object> f) {
      thread =
          new Thread(
              () -> {
                try {
                  Object value = wait.await(f);
                  interruptFlagAfterwards = Thread.currentThread().isInterrupted();
                  outcome.complete(value);
                } catch (Throwable t) {
                  interruptFlagAfterwards = Thread.currentThread().isInterrupted();
                  outcome.completeExceptionally(t);
                }
              },
              name);
      thread.setDaemon(true);
      callers.add(this);
      thread.start();
    }

    Object value() throws Exception {
      return outcome.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    }

    /** What the blocking call threw (not wrapped): it must have thrown. */
    Throwable failure() throws InterruptedException {
      thread.join(PATIENCE.toMillis());
      assertThat(outcome).as("%s threw", thread.getName()).isCompletedExceptionally();
      return outcome.handle((v, t) -> t).join();
    }
  }

  @AfterEach
  void stopCallers() throws InterruptedException {
    for (Caller c : callers) {
      c.thread.interrupt();
      c.thread.join(PATIENCE.toMillis());
      assertThat(c.thread.isAlive()).as("%s ended", c.thread.getName()).isFalse();
    }
  }

  private Runnable answering(CallFuture f, Object value) {
    return () -> {
      runners.add(Thread.currentThread());
      f.answer(value);
    };
  }

  private static void awaitParkedInHandoff(Thread t, CallFuture f) {
    await()
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .atMost(PATIENCE)
        .until(() -> isParked(t) && LockSupport.getBlocker(t) == f);
  }

  private static void awaitParkedTheOrdinaryWay(Thread t, CallFuture f) {
    await()
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(1))
        .atMost(PATIENCE)
        .until(
            () -> {
              Object blocker = LockSupport.getBlocker(t);
              return isParked(t) && blocker != null && blocker != f;
            });
  }

  private static boolean isParked(Thread t) {
    Thread.State s = t.getState();
    return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
  }

  // ---- IDLE -> DISPATCHED -> RUNNING ----

  @Test
  void deliveryWithNoWaiterRunsTheCompletionOnTheExecutor() throws Exception {
    future.deliver(answering(future, "42"), queue);

    assertThat(future).isNotDone();
    assertThat(executor.queued()).isEqualTo(1);
    executor.runNext();

    assertThat(future.get()).isEqualTo("42");
    assertThat(runners).containsExactly(Thread.currentThread());
  }

  @ParameterizedTest
  @EnumSource(Wait.class)
  void callerBlockingAfterDeliveryWaitsForTheQueueToRunTheCompletionInItsTurn(Wait wait)
      throws Exception {
    future.deliver(answering(future, "42"), queue);
    Caller caller = new Caller("late-waiter", wait, future);
    awaitParkedTheOrdinaryWay(caller.thread, future);
    assertThat(future).as("not run ahead of its turn by the caller").isNotDone();

    executor.runNext();
    assertThat(caller.value()).isEqualTo("42");
    assertThat(runners).containsExactly(Thread.currentThread());
  }

  @Test
  void completionTheExecutorAlreadyRunsIsNotRunAgainByALateWaiter() throws Exception {
    CountDownLatch inCompletion = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    future.deliver(
        () -> {
          runners.add(Thread.currentThread());
          inCompletion.countDown();
          awaitLatch(finish);
          future.answer("42");
        },
        queue);
    Thread executorThread = new Thread(executor::runNext, "executor");
    executorThread.start();
    assertThat(inCompletion.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

    Caller caller = new Caller("late-waiter", Wait.GET, future);
    awaitParkedTheOrdinaryWay(caller.thread, future);
    finish.countDown();

    assertThat(caller.value()).isEqualTo("42");
    executorThread.join(PATIENCE.toMillis());
    assertThat(runners).containsExactly(executorThread);
  }

  // ---- IDLE -> WAITING -> HANDED ----

  @ParameterizedTest
  @EnumSource(Wait.class)
  void callerParkedBeforeDeliveryIsHandedTheCompletion(Wait wait) throws Exception {
    Caller caller = new Caller("waiter", wait, future);
    awaitParkedInHandoff(caller.thread, future);

    future.deliver(answering(future, "42"), queue);

    assertThat(caller.value()).isEqualTo("42");
    assertThat(runners).containsExactly(caller.thread);
    assertThat(executor.queued()).as("nothing for the executor").isZero();
  }

  @Test
  void failureHandedToAParkedCallerIsThrownByItsGet() throws Exception {
    Caller caller = new Caller("waiter", Wait.GET, future);
    awaitParkedInHandoff(caller.thread, future);
    PbException cause = new PbException(PbException.Code.CONNECTION_LOST, "gone");

    future.deliver(() -> future.completeExceptionally(cause), queue);

    assertThat(caller.failure()).isInstanceOf(ExecutionException.class).hasCause(cause);
    assertThat(executor.queued()).isZero();
  }

  @Test
  void secondWaiterWaitsTheOrdinaryWayAndTheFirstRunsTheCompletion() throws Exception {
    Caller first = new Caller("first", Wait.GET, future);
    awaitParkedInHandoff(first.thread, future);
    Caller second = new Caller("second", Wait.JOIN, future);
    awaitParkedTheOrdinaryWay(second.thread, future);

    future.deliver(answering(future, "42"), queue);

    assertThat(first.value()).isEqualTo("42");
    assertThat(second.value()).isEqualTo("42");
    assertThat(runners).containsExactly(first.thread);
    assertThat(executor.queued()).isZero();
  }

  @Test
  void waiterArrivingWhileTheHandedCompletionRunsWaitsForIt() throws Exception {
    CountDownLatch inCompletion = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Caller first = new Caller("first", Wait.GET, future);
    awaitParkedInHandoff(first.thread, future);
    future.deliver(
        () -> {
          runners.add(Thread.currentThread());
          inCompletion.countDown();
          awaitLatch(finish);
          future.answer("42");
        },
        queue);
    assertThat(inCompletion.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();

    Caller second = new Caller("second", Wait.GET, future);
    awaitParkedTheOrdinaryWay(second.thread, future);
    finish.countDown();

    assertThat(first.value()).isEqualTo("42");
    assertThat(second.value()).isEqualTo("42");
    assertThat(runners).containsExactly(first.thread);
  }

  // ---- WAITING -> IDLE ----

  @Test
  void timedOutGetGivesTheHandoffBackAndALaterDeliveryGoesToTheExecutor() throws Exception {
    assertThatThrownBy(() -> future.get(1, TimeUnit.MILLISECONDS))
        .isInstanceOf(TimeoutException.class);
    assertThat(executor.queued()).isZero();

    future.deliver(answering(future, "42"), queue);

    assertThat(executor.queued()).isEqualTo(1);
    executor.runNext();
    assertThat(future.get()).isEqualTo("42");
    assertThat(runners).containsExactly(Thread.currentThread());
  }

  @Test
  void timedOutGetFreesTheHandoffForTheNextWaiter() throws Exception {
    assertThatThrownBy(() -> future.get(0, TimeUnit.NANOSECONDS))
        .isInstanceOf(TimeoutException.class);
    Caller next = new Caller("next", Wait.GET, future);
    awaitParkedInHandoff(next.thread, future);

    future.deliver(answering(future, "42"), queue);

    assertThat(next.value()).isEqualTo("42");
    assertThat(runners).containsExactly(next.thread);
  }

  @Test
  void interruptedGetThrowsAndALaterDeliveryGoesToTheExecutor() throws Exception {
    Caller caller = new Caller("waiter", Wait.GET, future);
    awaitParkedInHandoff(caller.thread, future);

    caller.thread.interrupt();

    assertThat(caller.failure()).isInstanceOf(InterruptedException.class);
    future.deliver(answering(future, "42"), queue);
    assertThat(executor.queued()).isEqualTo(1);
    executor.runNext();
    assertThat(future.get()).isEqualTo("42");
    assertThat(runners).containsExactly(Thread.currentThread());
  }

  @Test
  void interruptedJoinGivesTheHandoffBackWaitsOnAndKeepsTheInterruptFlag() throws Exception {
    Caller caller = new Caller("waiter", Wait.JOIN, future);
    awaitParkedInHandoff(caller.thread, future);

    caller.thread.interrupt();
    awaitParkedTheOrdinaryWay(caller.thread, future);
    future.deliver(answering(future, "42"), queue);
    assertThat(executor.queued()).isEqualTo(1);
    executor.runNext();

    assertThat(caller.value()).isEqualTo("42");
    assertThat(caller.interruptFlagAfterwards).isTrue();
    assertThat(runners).containsExactly(Thread.currentThread());
  }

  /**
   * An interrupt and a hand-off that reach a parked caller together: it either throws
   * InterruptedException (and the executor runs the completion) or runs the completion and
   * returns with its interrupt flag still set. The interrupt must never be lost. Which of the two
   * happens depends on the scheduler, so the race is run many times.
   */
  @Test
  void interruptArrivingWithTheHandoffIsNeverLost() throws Exception {
    int lost = 0;
    int returned = 0;
    int threw = 0;
    for (int i = 0; i < 200; i++) {
      QueuedExecutor ex = new QueuedExecutor();
      CallFuture f = new CallFuture(i, "price", null, id -> {});
      List<Thread> ran = new CopyOnWriteArrayList<>();
      Caller caller = new Caller("waiter-" + i, Wait.GET, f);
      awaitParkedInHandoff(caller.thread, f);

      caller.thread.interrupt();
      f.deliver(
          () -> {
            ran.add(Thread.currentThread());
            f.answer("42");
          },
          new CompletionQueue(ex));

      caller.thread.join(PATIENCE.toMillis());
      if (caller.outcome.isCompletedExceptionally()) {
        assertThat(caller.failure()).isInstanceOf(InterruptedException.class);
        ex.runAll();
        assertThat(ran).containsExactly(Thread.currentThread());
        threw++;
      } else {
        assertThat(caller.value()).isEqualTo("42");
        assertThat(ran).containsExactly(caller.thread);
        if (!caller.interruptFlagAfterwards) {
          lost++;
        }
        returned++;
      }
      assertThat(f.get()).isEqualTo("42");
    }
    assertThat(lost)
        .as("get() returned a value and cleared the interrupt flag (returned %d, threw %d)",
            returned, threw)
        .isZero();
  }

  // ---- cancel ----

  @Test
  void cancelTellsTheRequestIdOnce() {
    assertThat(future.cancel(true)).isTrue();
    future.cancel(true); // true again, as CompletableFuture answers: it is cancelled
    future.cancel(false);

    assertThat(cancelled).containsExactly(REQUEST_ID);
    assertThat(future).isCancelled();
  }

  @Test
  void deliveryAfterCancelDoesNotResurrectTheCall() {
    future.cancel(false);

    future.deliver(answering(future, "42"), queue);
    executor.runAll();

    assertThat(future).isCancelled();
    assertThatThrownBy(future::join).isInstanceOf(CancellationException.class);
    assertThat(cancelled).containsExactly(REQUEST_ID);
  }

  @Test
  void cancelWakesAParkedCallerAndALaterDeliveryGoesToTheExecutor() throws Exception {
    Caller caller = new Caller("waiter", Wait.GET, future);
    awaitParkedInHandoff(caller.thread, future);

    future.cancel(true);

    assertThat(caller.failure()).isInstanceOf(CancellationException.class);
    future.deliver(answering(future, "42"), queue);
    assertThat(executor.queued()).isEqualTo(1);
    executor.runNext();
    assertThat(future).isCancelled();
    assertThat(cancelled).containsExactly(REQUEST_ID);
  }

  // ---- the result type ----

  @Test
  void answerOfTheWrongTypeFailsWithBadResultNamingMethodAndBothTypes() {
    CallFuture typed = new CallFuture(1, "price", String.class, id -> {});

    typed.deliver(answering(typed, 42), queue);
    executor.runAll();

    assertThatThrownBy(typed::get)
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(PbException.class)
        .hasMessageContaining("'price' answered a java.lang.Integer, not a java.lang.String")
        .satisfies(e -> assertThat(((PbException) e).code()).isEqualTo(PbException.Code.BAD_RESULT));
  }

  @Test
  void answerOfTheBoxedTypeOrNullFitsAPrimitiveResultType() throws Exception {
    CallFuture boxed = new CallFuture(1, "count", int.class, id -> {});
    boxed.answer(3);
    CallFuture empty = new CallFuture(2, "name", String.class, id -> {});
    empty.answer(null);

    assertThat(boxed.get()).isEqualTo(3);
    assertThat(empty.get()).isNull();
  }

  // ---- every interleaving at once ----

  /**
   * Many callers blocking in every way, some with timeouts so short that they time out and come
   * back, against a delivery at a random moment on another thread and a completion executor on a
   * third: the completion runs exactly once and every caller gets the answer.
   */
  @Test
  void underRandomInterleavingsTheCompletionRunsOnceAndEveryCallerGetsTheAnswer()
      throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    ExecutorService callers = Executors.newFixedThreadPool(5);
    ExecutorService completions = Executors.newSingleThreadExecutor();
    CompletionQueue completionQueue = new CompletionQueue(completions);
    try {
      for (int round = 0; round < 2000; round++) {
        String answer = "answer-" + round;
        CallFuture f = new CallFuture(round, "m", String.class, id -> {});
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Object>> results = new ArrayList<>();
        int waiters = 1 + random.nextInt(4);
        for (int w = 0; w < waiters; w++) {
          int mode = random.nextInt(4);
          int spin = random.nextInt(2000);
          results.add(
              callers.submit(
                  () -> {
                    start.await();
                    spinFor(spin);
                    return switch (mode) {
                      case 0 -> f.get();
                      case 1 -> f.join();
                      case 2 -> f.get(1, TimeUnit.MINUTES);
                      default -> getRetryingShortTimeouts(f);
                    };
                  }));
        }
        int spin = random.nextInt(2000);
        callers.execute(
            () -> {
              awaitLatch(start);
              spinFor(spin);
              f.deliver(
                  () -> {
                    runs.incrementAndGet();
                    f.answer(answer);
                  },
                  completionQueue);
            });
        start.countDown();

        for (Future<Object> r : results) {
          assertThat(r.get(PATIENCE.toSeconds(), TimeUnit.SECONDS))
              .as("round %d, seed %d", round, seed)
              .isEqualTo(answer);
        }
        // the executor's copy of the completion, if any, has run once this marker has
        completions.submit(() -> {}).get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(runs.get()).as("completion runs, round %d, seed %d", round, seed).isEqualTo(1);
      }
    } finally {
      callers.shutdownNow();
      completions.shutdownNow();
      assertThat(callers.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
      assertThat(completions.awaitTermination(PATIENCE.toSeconds(), TimeUnit.SECONDS)).isTrue();
    }
  }

  private static Object getRetryingShortTimeouts(CallFuture f) throws Exception {
    while (true) {
      try {
        return f.get(50, TimeUnit.MICROSECONDS);
      } catch (TimeoutException e) {
        // back to IDLE; wait again, perhaps as the designated waiter this time
      }
    }
  }

  private static void spinFor(int iterations) {
    for (int i = 0; i < iterations; i++) {
      Thread.onSpinWait();
    }
  }

  private static void awaitLatch(CountDownLatch latch) {
    try {
      if (!latch.await(PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
        throw new AssertionError("latch not released");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
