package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * Stops and restarts reading from a channel for named reasons (the peer does not read what this
 * side writes, a backlog of messages to decode, ...): the channel reads only while no reason
 * holds, so handlers that pause for different reasons do not undo each other's pause.
 *
 * <p>Thread-safety: may be called from any thread; the reasons are a concurrent set changed at
 * once, and the channel's reading is set from them on its event loop.
 */
final class ReadPause {
  private static final AttributeKey<Set<String>> REASONS = AttributeKey.valueOf("pbj.readPause");

  private ReadPause() {}

  /**
   * Stops reading from {@code channel} until {@link #resume} is called with the same reason. The
   * reason holds from the moment this returns, whatever thread calls; reading stops at once on
   * the event loop, in the loop's next turn from another thread.
   */
  static void pause(Channel channel, String reason) {
    reasons(channel).add(reason);
    if (channel.eventLoop().inEventLoop()) {
      channel.config().setAutoRead(false);
    } else {
      later(channel);
    }
  }

  /**
   * Takes back {@code reason} from the moment this returns; reading restarts when no reason
   * holds, in a later turn of the event loop, never inside the caller. Restarting reads with
   * {@code setAutoRead(true)} calls {@code Channel.read()}, and an in-process ({@code
   * LocalChannel}) channel with queued input reads it right there, on the caller's stack: called
   * from a handler in the middle of a read (the decode backlog shrinking as a message arrives),
   * the frames queued behind that message would enter the pipeline before the rest of the
   * current read, and the frame reader would take the bytes out of order (a header read from the
   * middle of a frame), and the decode queue would be worked off twice at once (a message lost,
   * the receiver stalled). A socket channel only registers interest in reading, so TCP never
   * showed it.
   */
  static void resume(Channel channel, String reason) {
    if (reasons(channel).remove(reason)) {
      later(channel);
    }
  }

  /**
   * Makes the channel read, or not, as the reasons say when the task runs: the reasons change at
   * once, from any thread, and only what they say in the end counts, so a pause from another
   * thread that returned before a resume on the loop cannot land after it.
   */
  private static void later(Channel channel) {
    try {
      channel.eventLoop().execute(() -> {
        boolean read = reasons(channel).isEmpty() && channel.isActive();
        if (channel.config().isAutoRead() != read) {
          channel.config().setAutoRead(read);
        }
      });
    } catch (RejectedExecutionException e) {
      // the event loop is shutting down: the channel closes with it, nothing to read
    }
  }

  /** True if reading is paused for {@code reason}; on the event loop. */
  static boolean isPaused(Channel channel, String reason) {
    return reasons(channel).contains(reason);
  }

  private static Set<String> reasons(Channel channel) {
    Set<String> reasons = channel.attr(REASONS).get();
    if (reasons == null) {
      Set<String> made = ConcurrentHashMap.newKeySet();
      reasons = channel.attr(REASONS).setIfAbsent(made);
      if (reasons == null) {
        reasons = made;
      }
    }
    return reasons;
  }
}
