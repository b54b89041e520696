package io.pbj.internal;

import io.netty.channel.EventLoopGroup;
import java.util.concurrent.TimeUnit;

/**
 * For benchmarks that start hundreds of clients in one JVM: while installed, every {@code
 * PbClient} started over TCP runs its channel on this one group of event-loop threads instead of
 * a thread of its own, and leaves the group running when it shuts down. Not an application
 * setting: an application has one client per server, or few.
 *
 * <p>Thread-safety: thread-safe; a client takes the group installed when it starts.
 */
public final class SharedClientGroup {
  private static volatile EventLoopGroup group;

  private SharedClientGroup() {}

  /** Installs a new group of {@code threads} event loops for the clients started from now on. */
  public static synchronized void start(int threads) {
    if (group != null) {
      throw new IllegalStateException("a shared client group is installed already");
    }
    group = Transport.TCP.newGroup(threads, "pbj-shared-client-io");
  }

  /** Uninstalls the group and shuts it down; its clients should be shut down first. */
  public static synchronized void stop() throws InterruptedException {
    EventLoopGroup g = group;
    group = null;
    if (g != null) {
      g.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
  }

  /** The installed group, or null. */
  public static EventLoopGroup current() {
    return group;
  }
}
