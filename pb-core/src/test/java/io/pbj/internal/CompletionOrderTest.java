package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Call completions run one at a time in arrival order, also when a blocked caller is handed its
 * completion: the hand-off happens only while the completion queue is idle, and holds the queue
 * until the caller has run it.
 */
class CompletionOrderTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  /** An executor whose tasks run only when the test says so. */
  private static final class QueuedExecutor implements Executor {
    final Queue<Runnable> tasks = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
      tasks.add(task);
    }

    synchronized int size() {
      return tasks.size();
    }

    void runAll() {
      Runnable r;
      while ((r = poll()) != null) {
        r.run();
      }
    }

    private synchronized Runnable poll() {
      return tasks.poll();
    }
  }

  private static CallFuture future(int id) {
    return new CallFuture(id, "m", null, requestId -> {});
  }

  /** Starts a thread that blocks in {@code f.get()} and hands what it got to {@code waited}. */
  private static Thread blockIn(CallFuture f, CompletableFuture<Object> waited) {
    Thread caller =
        new Thread(
            () -> {
              try {
                waited.complete(f.get());
              } catch (Exception e) {
                waited.completeExceptionally(e);
              }
            });
    caller.start();
    return caller;
  }

  private static void awaitParked(Thread t) {
    await().atMost(WAIT).until(() -> t.getState() == Thread.State.WAITING);
  }

  @Test
  void answerArrivingWhileAHandedCompletionRunsWaitsUntilItEnds() throws Exception {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture a = future(1);
    CallFuture b = future(2);
    List<String> events = new CopyOnWriteArrayList<>();
    CountDownLatch aRunning = new CountDownLatch(1);
    CountDownLatch finishA = new CountDownLatch(1);
    a.thenRun(
        () -> {
          events.add("A-start");
          aRunning.countDown();
          try {
            finishA.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          events.add("A-end");
        });
    b.thenRun(() -> events.add("B"));
    CompletableFuture<Object> waited = new CompletableFuture<>();
    awaitParked(blockIn(a, waited));

    a.deliver(() -> a.complete("a"), queue); // handed to the blocked caller: the queue was idle
    assertThat(aRunning.await(10, TimeUnit.SECONDS)).isTrue();
    b.deliver(() -> b.complete("b"), queue); // arrives while A's callback runs
    assertThat(executor.size()).as("B waits for A instead of running beside it").isZero();
    assertThat(b).isNotDone();

    finishA.countDown();
    assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo("a");
    await().atMost(WAIT).until(() -> executor.size() == 1);
    executor.runAll();
    assertThat(b.join()).isEqualTo("b");
    assertThat(events).containsExactly("A-start", "A-end", "B");
  }

  @Test
  void blockedCallerWaitsItsTurnBehindEarlierCompletions() throws Exception {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture earlier = future(1);
    CallFuture later = future(2);
    List<String> events = new CopyOnWriteArrayList<>();
    earlier.thenRun(() -> events.add("earlier"));
    later.thenRun(() -> events.add("later"));
    earlier.deliver(() -> earlier.complete("e"), queue); // queued, not run yet
    CompletableFuture<Object> waited = new CompletableFuture<>();
    awaitParked(blockIn(later, waited));

    later.deliver(() -> later.complete("l"), queue);
    assertThat(later).as("not run ahead of the earlier answer").isNotDone();
    executor.runAll();
    assertThat(waited.get(10, TimeUnit.SECONDS)).isEqualTo("l");
    assertThat(events).containsExactly("earlier", "later");
  }

  @Test
  void callbackBlockingOnALaterCallRunsItRatherThanWaitForever() throws Exception {
    QueuedExecutor executor = new QueuedExecutor();
    CompletionQueue queue = new CompletionQueue(executor);
    CallFuture first = future(1);
    CallFuture second = future(2);
    CompletableFuture<Object> seenInCallback = new CompletableFuture<>();
    first.thenRun(() -> seenInCallback.complete(second.join()));
    first.deliver(() -> first.complete("1"), queue);
    second.deliver(() -> second.complete("2"), queue);
    executor.runAll(); // first's callback joins second, queued behind it on the same queue
    assertThat(seenInCallback.get(10, TimeUnit.SECONDS)).isEqualTo("2");
    assertThat(executor.size()).isZero();
  }
}
