package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalServerChannel;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Attack on {@link ReadPause}, which "may be called from any thread": a pause and a resume of the
 * same reason from two threads, the resume called after the pause returned. Reading must run
 * again once the resume is called, whatever thread each call came from.
 */
class ReadPauseRaceAttackTest {
  private DefaultEventLoopGroup group;
  private Channel server;
  private Channel channel;

  @BeforeEach
  void connect() throws Exception {
    group = new DefaultEventLoopGroup(1);
    LocalAddress address = new LocalAddress("read-pause-" + UUID.randomUUID());
    server = new ServerBootstrap().group(group).channel(LocalServerChannel.class)
        .childHandler(new ChannelInboundHandlerAdapter()).bind(address).sync().channel();
    channel = new Bootstrap().group(group).channel(LocalChannel.class)
        .handler(new ChannelInboundHandlerAdapter()).connect(address).sync().channel();
  }

  @AfterEach
  void close() throws Exception {
    channel.close().sync();
    server.close().sync();
    group.shutdownGracefully(0, 0, TimeUnit.SECONDS).sync();
  }

  /** What the loop sees once every task submitted before this call has run. */
  private boolean autoReadAfterPendingTasks() throws Exception {
    return CompletableFuture.supplyAsync(() -> channel.config().isAutoRead(), channel.eventLoop())
        .get(10, TimeUnit.SECONDS);
  }

  /** Pause and resume from two threads off the loop, each resume after its pause: holds. */
  @Test
  void pausesAndResumesFromTwoThreadsOffTheLoopEndReading() throws Exception {
    for (int i = 0; i < 1000; i++) {
      CountDownLatch paused = new CountDownLatch(1);
      Thread a = new Thread(() -> {
        ReadPause.pause(channel, "race");
        paused.countDown();
      });
      Thread b = new Thread(() -> {
        try {
          paused.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        ReadPause.resume(channel, "race");
      });
      a.start();
      b.start();
      a.join();
      b.join();
    }
    autoReadAfterPendingTasks();
    assertThat(autoReadAfterPendingTasks()).isTrue();
  }

}
