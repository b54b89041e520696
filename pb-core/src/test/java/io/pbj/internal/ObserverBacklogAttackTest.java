package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.Backpressure;
import io.pbj.Cacheable;
import io.pbj.PbRegistry;
import io.pbj.RemoteObserver;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Attack on the observer backlog (CacheObservers.drainBacklog and RealRemoteObserver.drain): the
 * channel's writability changes between the drain's two checks of it. Whatever the interleaving,
 * an observer with queued updates must be in the backlog, or be drained, when the channel is
 * writable again: otherwise its updates wait until the next push, which may never come.
 */
class ObserverBacklogAttackTest {
  /** A channel whose writability the test scripts call by call, then sets for good. */
  static final class ScriptedChannel extends EmbeddedChannel {
    final Deque<Boolean> script = new ArrayDeque<>();
    volatile boolean writable = true;

    @Override
    public boolean isWritable() {
      Boolean next = script.poll();
      return next != null ? next : writable;
    }
  }

  /** A Cacheable that never coalesces within the test's pushes. */
  static final class Board implements Cacheable {
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return "state";
    }

    @Override
    public Backpressure backpressure() {
      return Backpressure.coalesce(1000);
    }
  }

  private final ScriptedChannel channel = new ScriptedChannel();

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  @Test
  void anObserverWhoseDrainSawTheChannelFillBetweenItsChecksIsDrainedWhenItIsWritableAgain() {
    Connection connection =
        new Connection(channel, TestConfigs.config(PbRegistry.defaults(), Runnable::run));
    Board board = new Board();
    RealRemoteObserver observer = connection.observers().observerFor(board, 1);
    CacheObservers.activatePending();
    channel.runPendingTasks();

    channel.writable = false;    // the peer stops reading: pushes queue
    for (int i = 0; i < 3; i++) {
      observer.callRemote("added", "update-" + i);
    }
    assertThat(observer.queuedUpdates()).isEqualTo(3);

    // Writable again; during the drain the channel fills once more, exactly between the
    // observer's first check (writable: nothing to record) and its second (full: return).
    channel.script.add(true);     // drainBacklog's loop: go on
    channel.script.add(true);     // RealRemoteObserver.drain, first check
    channel.script.add(false);    // RealRemoteObserver.drain, second check
    connection.observers().writable();
    channel.script.clear();

    channel.writable = true;      // the peer read: the channel can take more
    connection.observers().writable();
    channel.runPendingTasks();
    assertThat(observer.queuedUpdates())
        .as("updates still queued after the channel became writable").isZero();
  }

  /** The control: no change of writability during the drain, and the backlog drains. Holds. */
  @Test
  void anObserverWithQueuedUpdatesDrainsWhenTheChannelIsWritableAgain() {
    Connection connection =
        new Connection(channel, TestConfigs.config(PbRegistry.defaults(), Runnable::run));
    RealRemoteObserver observer = connection.observers().observerFor(new Board(), 1);
    CacheObservers.activatePending();
    channel.runPendingTasks();
    channel.writable = false;
    for (int i = 0; i < 3; i++) {
      observer.callRemote("added", "update-" + i);
    }
    assertThat(observer.queuedUpdates()).isEqualTo(3);
    channel.writable = true;
    connection.observers().writable();
    channel.runPendingTasks();
    assertThat(observer.queuedUpdates()).isZero();
  }
}
