package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Reading restarts in a turn of its own: an in-process channel reads its queued input inside
 * {@code Channel.read()}, so a restart inside a handler would re-enter the pipeline mid-read.
 */
class ReadPauseTest {
  /** Counts the reads the pipeline asks for. */
  private static final class CountReads extends ChannelOutboundHandlerAdapter {
    final AtomicInteger reads = new AtomicInteger();

    @Override
    public void read(ChannelHandlerContext ctx) {
      reads.incrementAndGet();
      ctx.read();
    }
  }

  @Test
  void resumeOnTheEventLoopRestartsReadingInALaterTurnNotInsideTheCaller() {
    CountReads counter = new CountReads();
    EmbeddedChannel channel = new EmbeddedChannel(counter);
    ReadPause.pause(channel, "backlog");
    int before = counter.reads.get();

    ReadPause.resume(channel, "backlog");
    assertThat(counter.reads.get()).as("reads asked for inside resume").isEqualTo(before);
    assertThat(channel.config().isAutoRead()).isFalse();

    channel.runPendingTasks();
    assertThat(channel.config().isAutoRead()).isTrue();
    assertThat(counter.reads.get()).as("reads asked for in the later turn").isEqualTo(before + 1);
    channel.finishAndReleaseAll();
  }

  @Test
  void aPauseBetweenResumeAndItsTurnKeepsReadingStopped() {
    EmbeddedChannel channel = new EmbeddedChannel(new CountReads());
    ReadPause.pause(channel, "backlog");
    ReadPause.resume(channel, "backlog");
    ReadPause.pause(channel, "peer not reading");
    channel.runPendingTasks();
    assertThat(channel.config().isAutoRead()).isFalse();

    ReadPause.resume(channel, "peer not reading");
    channel.runPendingTasks();
    assertThat(channel.config().isAutoRead()).isTrue();
    channel.finishAndReleaseAll();
  }

  @Test
  void readingStaysStoppedWhileAnotherReasonHolds() {
    EmbeddedChannel channel = new EmbeddedChannel(new CountReads());
    ReadPause.pause(channel, "backlog");
    ReadPause.pause(channel, "peer not reading");
    ReadPause.resume(channel, "backlog");
    channel.runPendingTasks();
    assertThat(channel.config().isAutoRead()).isFalse();
    assertThat(ReadPause.isPaused(channel, "peer not reading")).isTrue();
    channel.finishAndReleaseAll();
  }
}
