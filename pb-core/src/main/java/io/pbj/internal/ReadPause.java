package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.RejectedExecutionException;

/**
 * Stops and restarts reading from a channel for named reasons (the peer does not read what this
 * side writes, a backlog of messages to decode, ...): the channel reads only while no reason
 * holds, so handlers that pause for different reasons do not undo each other's pause.
 *
 * <p>Thread-safety: may be called from any thread; the reasons are changed on the channel's event
 * loop only.
 */
final class ReadPause {
  private static final AttributeKey<Set<String>> REASONS = AttributeKey.valueOf("pbj.readPause");

  private ReadPause() {}

  /** Stops reading from {@code channel} until {@link #resume} is called with the same reason. */
  static void pause(Channel channel, String reason) {
    onLoop(channel, () -> {
      reasons(channel).add(reason);
      channel.config().setAutoRead(false);
    });
  }

  /**
   * Takes back {@code reason}; reading restarts when no other reason holds, in a later turn of
   * the event loop, never inside the caller. Restarting reads with {@code setAutoRead(true)}
   * calls {@code Channel.read()}, and an in-process ({@code LocalChannel}) channel with queued
   * input reads it right there, on the caller's stack: called from a handler in the middle of a
   * read (the decode backlog shrinking as a message arrives), the frames queued behind that
   * message would enter the pipeline before the rest of the current read, and the frame reader
   * would take the bytes out of order (a header read from the middle of a frame), and the decode
   * queue would be worked off twice at once (a message lost, the receiver stalled). A socket
   * channel only registers interest in reading, so TCP never showed it.
   */
  static void resume(Channel channel, String reason) {
    if (channel.eventLoop().inEventLoop()) {
      if (takeBack(channel, reason)) {
        try {
          channel.eventLoop().execute(() -> restart(channel));
        } catch (RejectedExecutionException e) {
          // the event loop is shutting down: the channel closes with it, nothing to read
        }
      }
    } else {
      channel
          .eventLoop()
          .execute(
              () -> {
                // a task of its own already: no handler is on the stack
                if (takeBack(channel, reason)) {
                  restart(channel);
                }
              });
    }
  }

  /** Removes {@code reason}; true if no reason holds any more. On the event loop. */
  private static boolean takeBack(Channel channel, String reason) {
    Set<String> reasons = reasons(channel);
    return reasons.remove(reason) && reasons.isEmpty();
  }

  /** Reads again unless a reason came back meanwhile. On the event loop, outside any handler. */
  private static void restart(Channel channel) {
    if (reasons(channel).isEmpty() && channel.isActive()) {
      channel.config().setAutoRead(true);
    }
  }

  /** True if reading is paused for {@code reason}; on the event loop. */
  static boolean isPaused(Channel channel, String reason) {
    return reasons(channel).contains(reason);
  }

  private static Set<String> reasons(Channel channel) {
    Set<String> reasons = channel.attr(REASONS).get();
    if (reasons == null) {
      reasons = new HashSet<>();
      channel.attr(REASONS).set(reasons);
    }
    return reasons;
  }

  private static void onLoop(Channel channel, Runnable action) {
    if (channel.eventLoop().inEventLoop()) {
      action.run();
    } else {
      channel.eventLoop().execute(action);
    }
  }
}
