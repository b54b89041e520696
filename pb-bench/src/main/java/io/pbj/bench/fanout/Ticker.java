package io.pbj.bench.fanout;

import io.pbj.Backpressure;
import io.pbj.Cacheable;
import io.pbj.RemoteObserver;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The Cacheable of the fan-out benchmark: its state is the sequence number of the latest tick,
 * and each {@link #tick} pushes {@code tick(seq, payload)} to every observer, which runs {@link
 * TickerCache#tick} there.
 *
 * <pre>{@code
 * Ticker ticker = new Ticker(Backpressure.DEFAULT);   // offered by a root's @Remote method
 * ticker.tick(0, payload);
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; ticks and fresh states are taken under this object's lock, so a
 * fresh state never misses a tick that an observer will not receive as an update.
 */
public final class Ticker implements Cacheable {
  private final CopyOnWriteArrayList<RemoteObserver> observers = new CopyOnWriteArrayList<>();
  private final Backpressure backpressure;
  private final boolean eachObserver;
  private long lastSeq = -1;

  /**
   * A ticker whose observers' queues follow {@code backpressure}, pushing each tick with {@link
   * RemoteObserver#callRemoteAll}.
   */
  public Ticker(Backpressure backpressure) {
    this(backpressure, false);
  }

  /**
   * @param eachObserver push with {@link RemoteObserver#callRemote} on each observer in turn
   *     (one encode and one future per observer) rather than {@link RemoteObserver#callRemoteAll}
   */
  public Ticker(Backpressure backpressure, boolean eachObserver) {
    this.backpressure = backpressure;
    this.eachObserver = eachObserver;
  }

  @Override
  public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
    // Called again for the same observer after coalescing.
    observers.addIfAbsent(observer);
    return lastSeq;
  }

  @Override
  public void stoppedObserving(Object perspective, RemoteObserver observer) {
    observers.remove(observer);
  }

  @Override
  public Backpressure backpressure() {
    return backpressure;
  }

  /** Records tick {@code seq} and pushes it with {@code payload} to every observer. */
  public synchronized void tick(long seq, byte[] payload) {
    lastSeq = seq;
    if (!eachObserver) {
      RemoteObserver.callRemoteAll(observers, "tick", seq, payload);
      return;
    }
    for (RemoteObserver o : observers) {
      o.callRemote("tick", seq, payload);
    }
  }

  /** How many observers there are now. */
  public int observerCount() {
    return observers.size();
  }
}
