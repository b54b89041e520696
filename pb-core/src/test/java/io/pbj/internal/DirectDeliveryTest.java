package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The two places where direct mode runs work on the calling thread (the event loop) rather than
 * the executor: {@link CallSequence#runHereIfIdle} for {@code @Remote(direct = true)} calls and
 * {@link CallFuture#deliverDirect} for {@code directCompletions}. Both do so only when that keeps
 * the order, with an executor that runs nothing until the test says so.
 */
class DirectDeliveryTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** The loop for sequences that have run nothing on the executor: it must not be used. */
  private static final Executor LOOP_UNUSED =
      task -> {
        throw new AssertionError("the task should have run on the calling thread");
      };

  private static CallSequence sequence(QueuedExecutor executor, AtomicBoolean mayStart) {
    return new CallSequence(executor, mayStart::get, backlog -> {});
  }

  @Test
  void idleSequenceRunsADirectTaskOnTheCallingThread() {
    QueuedExecutor executor = new QueuedExecutor();
    CallSequence sequence = sequence(executor, new AtomicBoolean(true));
    List<Thread> ranOn = new CopyOnWriteArrayList<>();

    assertThat(sequence.runHereIfIdle(() -> ranOn.add(Thread.currentThread()), LOOP_UNUSED))
        .isTrue();
    assertThat(ranOn).containsExactly(Thread.currentThread());
    assertThat(executor.queued()).isZero();
  }

  @Test
  void directTaskIsRefusedWhileAnEarlierTaskWaits() {
    QueuedExecutor executor = new QueuedExecutor();
    CallSequence sequence = sequence(executor, new AtomicBoolean(true));
    List<String> order = new CopyOnWriteArrayList<>();
    sequence.execute(() -> order.add("earlier"));

    assertThat(sequence.runHereIfIdle(() -> order.add("direct"), LOOP_UNUSED)).isFalse();
    assertThat(order).isEmpty();
    sequence.execute(() -> order.add("direct"));
    executor.runAll();
    assertThat(order).containsExactly("earlier", "direct");
  }

  @Test
  void directTaskIsRefusedWhileCallsAreHeldBack() {
    QueuedExecutor executor = new QueuedExecutor();
    AtomicBoolean mayStart = new AtomicBoolean(false);
    CallSequence sequence = sequence(executor, mayStart);
    List<String> order = new CopyOnWriteArrayList<>();

    assertThat(sequence.runHereIfIdle(() -> order.add("direct"), LOOP_UNUSED)).isFalse();
    assertThat(order).isEmpty();
  }

  @Test
  void tasksArrivingWhileADirectTaskRunsWaitForItThenRunOnTheExecutor() {
    QueuedExecutor executor = new QueuedExecutor();
    CallSequence sequence = sequence(executor, new AtomicBoolean(true));
    List<String> order = new CopyOnWriteArrayList<>();

    boolean ran =
        sequence.runHereIfIdle(
            () -> {
              order.add("direct-start");
              sequence.execute(() -> order.add("later"));
              assertThat(executor.queued()).as("nothing starts beside the direct task").isZero();
              order.add("direct-end");
            },
            LOOP_UNUSED);
    assertThat(ran).isTrue();
    assertThat(order).containsExactly("direct-start", "direct-end");
    assertThat(executor.queued()).isEqualTo(1);
    executor.runAll();
    assertThat(order).containsExactly("direct-start", "direct-end", "later");
    QueuedExecutor loop = new QueuedExecutor();
    assertThat(sequence.runHereIfIdle(() -> order.add("behind the executor's"), loop)).isTrue();
    assertThat(order).as("queued on the loop, behind the answer the executor's task wrote")
        .doesNotContain("behind the executor's");
    sequence.execute(() -> order.add("after it"));
    assertThat(executor.queued()).as("the sequence is held meanwhile").isZero();
    loop.runAll();
    executor.runAll();
    assertThat(order).containsExactly(
        "direct-start", "direct-end", "later", "behind the executor's", "after it");
  }

  @Test
  void directTaskThatThrowsLeavesTheSequenceUsable() {
    QueuedExecutor executor = new QueuedExecutor();
    CallSequence sequence = sequence(executor, new AtomicBoolean(true));
    List<String> order = new CopyOnWriteArrayList<>();

    assertThat(
            sequence.runHereIfIdle(
                () -> {
                  throw new IllegalStateException("thrown on purpose");
                },
                LOOP_UNUSED))
        .isTrue();
    sequence.execute(() -> order.add("next"));
    executor.runAll();
    assertThat(order).containsExactly("next");
  }

  private static CallFuture future(int id) {
    return new CallFuture(id, "m", null, requestId -> {});
  }

  @Test
  void directCompletionRunsOnTheDeliveringThreadWhenTheQueueIsIdle() {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture f = future(1);
    CompletableFuture<Thread> callback = f.thenApply(ignored -> Thread.currentThread());

    f.deliverDirect(() -> f.complete("a"), queue);
    assertThat(callback.join()).isSameAs(Thread.currentThread());
    assertThat(executor.queued()).isZero();
  }

  @Test
  void directCompletionWaitsBehindEarlierCompletionsStillQueued() {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture earlier = future(1);
    CallFuture later = future(2);
    List<String> order = new CopyOnWriteArrayList<>();
    earlier.thenRun(() -> order.add("earlier"));
    later.thenRun(() -> order.add("later"));

    earlier.deliver(() -> earlier.complete("e"), queue);
    later.deliverDirect(() -> later.complete("l"), queue);
    assertThat(later).as("not run ahead of the earlier answer").isNotDone();
    executor.runAll();
    assertThat(order).containsExactly("earlier", "later");
  }

  @Test
  void directCompletionIsHandedToACallerBlockedOnIt() throws Exception {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture f = future(1);
    CompletableFuture<Thread> callbackThread = f.thenApply(ignored -> Thread.currentThread());
    CompletableFuture<Object> got = new CompletableFuture<>();
    Thread caller =
        new Thread(
            () -> {
              try {
                got.complete(f.get());
              } catch (Exception e) {
                got.completeExceptionally(e);
              }
            });
    caller.start();
    await().atMost(WAIT).until(() -> caller.getState() == Thread.State.WAITING);

    f.deliverDirect(() -> f.complete("v"), queue);
    assertThat(got.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("v");
    assertThat(callbackThread.join()).as("the blocked caller ran it").isSameAs(caller);
    assertThat(executor.queued()).isZero();
  }
}
