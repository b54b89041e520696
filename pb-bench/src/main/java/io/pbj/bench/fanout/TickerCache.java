package io.pbj.bench.fanout;

import io.pbj.Remote;
import io.pbj.RemoteCache;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The client side of a {@link Ticker}: hands each tick's sequence number to the benchmark's
 * receiver, which counts it and checks the order.
 *
 * <pre>{@code
 * TickerCache cache = (TickerCache) root.callRemote("ticker").join();
 * long next = cache.nextSeq();   // then attach a receiver expecting it
 * }</pre>
 *
 * <p>Thread-safety: states and ticks arrive one at a time on the connection's executor; the
 * receiver is attached from another thread before the first tick is pushed, through a volatile
 * field.
 */
public final class TickerCache extends RemoteCache {
  private final AtomicInteger states = new AtomicInteger();
  private volatile long stateSeq = -1;
  private volatile Receiver receiver;

  /** Created by the broker when the {@link Ticker} arrives. */
  public TickerCache() {}

  @Override
  protected void setState(Object state) {
    states.incrementAndGet();
    long seq = (Long) state;
    stateSeq = seq;
    Receiver r = receiver;
    if (r != null) {
      r.stateUpTo(seq);
    }
  }

  /** Tick {@code seq} of the server's ticker; the payload is only carried. */
  @Remote
  public void tick(long seq, byte[] payload) {
    receiver.deliver(seq);
  }

  /** The first sequence number not included in the state received so far. */
  public long nextSeq() {
    return stateSeq + 1;
  }

  /** Whole states received: 1, plus one per coalescing. */
  public int states() {
    return states.get();
  }

  void attach(Receiver r) {
    receiver = r;
  }
}
