package io.pbj.internal;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The threads that decode large messages, off the event loops, for every connection of the
 * process.
 *
 * <p>Why a pool of its own rather than the broker's executor: decoding is CPU work whose amount
 * the peer chooses (within the message's budgets). On the broker's executor it would compete
 * with, and on a small fixed executor starve, the application's own calls; here at most one
 * decode per core runs at a time, whatever the number of peers, so the memory that decodes in
 * flight hold is bounded by that number too. Each connection submits at most one message at a
 * time (see {@link MessageCodec}), so the queue holds at most one task per connection. The pool
 * is shared by every server and client of the process (like Netty's {@code
 * GlobalEventExecutor}): its daemon threads end after a few idle seconds, so it needs no
 * shutdown.
 *
 * <p>Thread-safety: thread-safe.
 */
final class DecodePool {
  private DecodePool() {}

  private static final ThreadPoolExecutor POOL = create();

  private static ThreadPoolExecutor create() {
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            5,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            new DefaultThreadFactory("pbj-shared-decode", true));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  static Executor executor() {
    return POOL;
  }
}
