package io.pbj;

import io.pbj.internal.TypedUpdates;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;

/**
 * The observers of one {@link Cacheable}, and typed pushes to them: what every Cacheable would
 * otherwise write by hand. {@link #add} in {@link Cacheable#stateFor}, {@link #remove} in {@link
 * Cacheable#stoppedObserving}, and push through {@link #all()} (every observer) or {@link
 * #forEach} (each with its own arguments, say per perspective). Observers that have stopped are
 * also dropped when a push finds them stopped.
 *
 * <pre>{@code
 * interface ScoreboardApi {
 *   void scored(String player, int points);
 * }
 *
 * final class Scoreboard implements Cacheable {
 *   private final Map<String, Integer> scores = new HashMap<>();
 *   private final ObserverSet<ScoreboardApi> observers = ObserverSet.of(ScoreboardApi.class);
 *
 *   public synchronized Object stateFor(Object perspective, RemoteObserver observer) {
 *     observers.add(observer);
 *     return Map.copyOf(scores);
 *   }
 *
 *   public void stoppedObserving(Object perspective, RemoteObserver observer) {
 *     observers.remove(observer);
 *   }
 *
 *   synchronized void score(String player, int points) {
 *     scores.merge(player, points, Integer::sum);
 *     observers.all().scored(player, points);
 *   }
 * }
 * }</pre>
 *
 * <p>Each observer gets every update pushed after it was added, and its state is taken in the
 * same {@code stateFor}: take the state, add the observer and push under one lock (as above), and
 * no observer misses an update or gets one its state already holds.
 *
 * <p>Thread-safety: thread-safe; pushes to one observer keep the order in which they were made.
 *
 * @param <A> the interface of update methods (see {@link RemoteObserver#as})
 */
public final class ObserverSet<A> {
  private final Class<A> updates;
  private final Map<RemoteObserver, A> observers = new ConcurrentHashMap<>();
  private final A all;

  private ObserverSet(Class<A> updates) {
    this.updates = updates;
    this.all = TypedUpdates.broadcast(updates, observers::keySet, observers::remove, this);
  }

  /**
   * An empty set whose pushes go through {@code updates}.
   *
   * @throws IllegalArgumentException if {@code updates} is not an interface of update methods
   *     (see {@link RemoteObserver#as}), naming the method
   */
  public static <A> ObserverSet<A> of(Class<A> updates) {
    Objects.requireNonNull(updates, "updates");
    TypedUpdates.check(updates);
    return new ObserverSet<>(updates);
  }

  /**
   * Adds {@code observer} (again: no change) and returns its typed view.
   *
   * @throws IllegalArgumentException if the interface does not fit the receiver's cache class
   *     ({@link RemoteObserver#as}); the observer is then not added
   */
  public A add(RemoteObserver observer) {
    Objects.requireNonNull(observer, "observer");
    return observers.computeIfAbsent(observer, o -> o.as(updates));
  }

  /** Removes {@code observer}; true if it was in the set. */
  public boolean remove(RemoteObserver observer) {
    return observers.remove(observer) != null;
  }

  /**
   * A view that pushes each update to every observer in the set when it is called; a method that
   * returns a future returns one that completes when every push has been handed over.
   */
  public A all() {
    return all;
  }

  /** Runs {@code push} with each observer and its typed view: for updates that differ per observer. */
  public void forEach(BiConsumer<? super RemoteObserver, ? super A> push) {
    for (Map.Entry<RemoteObserver, A> e : observers.entrySet()) {
      if (e.getKey().isObserving()) {
        push.accept(e.getKey(), e.getValue());
      } else {
        observers.remove(e.getKey());
      }
    }
  }

  /** The number of observers. */
  public int size() {
    return observers.size();
  }

  /** Whether there are no observers. */
  public boolean isEmpty() {
    return observers.isEmpty();
  }

  @Override
  public String toString() {
    return "ObserverSet<" + updates.getSimpleName() + ">[" + observers.size() + " observers]";
  }
}
