package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.util.HashSet;
import java.util.Set;

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

  /** Takes back {@code reason}; reading restarts when no other reason holds. */
  static void resume(Channel channel, String reason) {
    onLoop(channel, () -> {
      Set<String> reasons = reasons(channel);
      if (reasons.remove(reason) && reasons.isEmpty() && channel.isActive()) {
        channel.config().setAutoRead(true);
      }
    });
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
