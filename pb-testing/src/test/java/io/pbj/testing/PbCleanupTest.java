package io.pbj.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PbCleanup without PBJ (this module must not depend on pb-core): plain AutoCloseables, threads
 * named as PBJ names its threads, buffers from Netty's allocator. pb-core's PbCleanupOverBrokerTest
 * checks it against real servers and clients.
 */
class PbCleanupTest {
  /** Threads a test started and must let go of, whatever it asserted. */
  private final List<CountDownLatch> toRelease = new ArrayList<>();

  @AfterEach
  void releaseThreads() {
    toRelease.forEach(CountDownLatch::countDown);
  }

  @Test
  void closesTheLastRegisteredFirst() {
    List<String> closed = new ArrayList<>();
    PbCleanup cleanup = new PbCleanup();
    cleanup.register(() -> closed.add("server"));
    cleanup.register(() -> closed.add("client"));
    cleanup.register(() -> closed.add("store"));

    cleanup.close();

    assertThat(closed).containsExactly("store", "client", "server");
  }

  @Test
  void closesTheOthersWhenOneFailsToCloseAndNamesIt() {
    List<String> closed = new ArrayList<>();
    PbCleanup cleanup = new PbCleanup();
    cleanup.register(() -> closed.add("first"));
    cleanup.register(new AutoCloseable() {
      @Override
      public void close() {
        throw new IllegalStateException("disk gone");
      }

      @Override
      public String toString() {
        return "the broken store";
      }
    });
    cleanup.register(() -> closed.add("last"));

    assertThatThrownBy(cleanup::close)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("closing the broken store failed")
        .hasMessageContaining("disk gone");
    assertThat(closed).containsExactly("last", "first");
  }

  @Test
  void failsWhenAPbjThreadStartedSinceItWasMadeOutlivesTheTimeout() throws Exception {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(200));
    String name = PbCleanup.THREAD_PREFIX + "left-running-" + UUID.randomUUID();
    startThread(name, new CountDownLatch(1));

    assertThatThrownBy(cleanup::close)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("1 PBJ thread(s) started by the test still running 200 ms")
        .hasMessageContaining(name);
  }

  @Test
  void waitsForPbjThreadsThatEndAfterTheirResourceIsClosed() throws Exception {
    PbCleanup cleanup = new PbCleanup();
    CountDownLatch stop = new CountDownLatch(1);
    Thread worker = startThread(PbCleanup.THREAD_PREFIX + "worker-" + UUID.randomUUID(), stop);
    // Like a server whose close() returns while its threads are still finishing.
    cleanup.register(stop::countDown);

    cleanup.close();

    assertThat(worker.isAlive()).as("the worker, once the cleanup returned").isFalse();
  }

  @Test
  void pbjThreadsAliveBeforeTheTestAreNotItsToStop() throws Exception {
    Thread earlier = startThread(
        PbCleanup.THREAD_PREFIX + "earlier-" + UUID.randomUUID(), new CountDownLatch(1));
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(200));

    cleanup.close();

    assertThat(earlier.isAlive()).isTrue();
  }

  @Test
  void threadsWithOtherNamesAreNotPbjs() throws Exception {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(200));
    Thread other = startThread("not-pbj-" + UUID.randomUUID(), new CountDownLatch(1));

    cleanup.close();

    assertThat(other.isAlive()).isTrue();
  }

  @Test
  void aThreadReportedOnceIsNotCountedAgainstTheNextUse() throws Exception {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(200));
    startThread(PbCleanup.THREAD_PREFIX + "left-running-" + UUID.randomUUID(),
        new CountDownLatch(1));
    assertThatThrownBy(cleanup::close).isInstanceOf(AssertionError.class);

    cleanup.close();
  }

  @Test
  void failsWhenANettyBufferLeaked() {
    PbCleanup cleanup = new PbCleanup();
    allocateAndDrop();

    assertThatThrownBy(cleanup::close)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("Netty buffer leak(s)")
        .hasMessageContaining("allocateAndDrop");
  }

  /** The head of a real report: a length prefix written in-process, stranded at the peer. */
  private static final String STRANDED =
      "\nRecent access records: \n#1:\n"
          + "\tio.netty.util.ReferenceCountUtil.release(ReferenceCountUtil.java:90)\n"
          + "\tio.netty.util.ReferenceCountUtil.safeRelease(ReferenceCountUtil.java:116)\n"
          + "\tio.netty.channel.ChannelOutboundBuffer.remove(ChannelOutboundBuffer.java:300)\n"
          + "\tio.netty.channel.local.LocalChannel.doWrite(LocalChannel.java:390)\n"
          + "\tio.netty.channel.AbstractChannel$AbstractUnsafe.flush0(AbstractChannel.java:794)\n"
          + "#2:\n\tHint: 'DefaultChannelPipeline$HeadContext#0' will handle the message from this"
          + " point.\n\tio.netty.channel.DefaultChannelPipeline.touch(DefaultChannelPipeline.java:115)"
          + "\n";

  @Test
  void aBufferNettysInProcessChannelStrandsAtAClosedPeerIsNotCountedAsALeak() {
    assertThat(PbCleanup.strandedByInProcessClose(STRANDED)).isTrue();
    // read by the receiving pipeline afterwards: its last use is there, so it is a leak
    String readLater =
        STRANDED.replace(
            "#1:\n",
            "#1:\n\tHint: 'chunker' will handle the message from this point.\n"
                + "\tio.netty.channel.DefaultChannelPipeline.touch(DefaultChannelPipeline.java:115)"
                + "\n#0:\n");
    assertThat(PbCleanup.strandedByInProcessClose(readLater)).isFalse();
    assertThat(PbCleanup.strandedByInProcessClose("\nRecent access records: 0\nCreated at:\n"))
        .isFalse();
  }

  @Test
  void reportsEveryProblemAtOnce() throws Exception {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(200));
    cleanup.register(() -> {
      throw new IllegalStateException("cannot close");
    });
    String name = PbCleanup.THREAD_PREFIX + "left-running-" + UUID.randomUUID();
    startThread(name, new CountDownLatch(1));

    assertThatThrownBy(cleanup::close)
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("PbCleanup found 2 problems:")
        .hasMessageContaining("cannot close")
        .hasMessageContaining(name);
  }

  @Test
  void theTimeoutIsSetOnceAndMustBePositive() {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofSeconds(1));
    assertThatThrownBy(() -> cleanup.timeout(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("PbCleanup timeout is already set (to PT1S)");
    assertThatThrownBy(() -> new PbCleanup().timeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("PbCleanup timeout must be positive, was PT0S");
  }

  /** A buffer nobody releases, unreachable once this returns. */
  private static void allocateAndDrop() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.buffer(32);
    leaked.writeInt(42);
  }

  private Thread startThread(String name, CountDownLatch stop) throws InterruptedException {
    toRelease.add(stop);
    CountDownLatch running = new CountDownLatch(1);
    Thread t = new Thread(() -> {
      running.countDown();
      try {
        stop.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, name);
    t.setDaemon(true);
    t.start();
    running.await();
    return t;
  }
}
