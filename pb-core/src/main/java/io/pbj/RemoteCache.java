package io.pbj;

import io.pbj.internal.CacheHandle;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The client side of a {@link Cacheable}: a local replica, created with a no-argument
 * constructor, initialised by {@link #setState} and kept current by the server's pushes, which run
 * its {@link Remote @Remote} methods in the order they were pushed.
 *
 * <pre>{@code
 * public final class RoomCache extends RemoteCache {
 *   private final List<String> messages = new CopyOnWriteArrayList<>();
 *
 *   protected void setState(Object state) {
 *     messages.clear();
 *     messages.addAll((List<String>) state);
 *   }
 *
 *   @Remote
 *   public void said(String text) {
 *     messages.add(text);
 *   }
 * }
 * }</pre>
 *
 * <p>Releasing the cache ({@link #release()}, or letting it be garbage collected) tells the
 * server, which stops observing. The constructor runs on a network thread while the message that
 * carries the cache is decoded, so it must be cheap and must not block; {@link #setState} and the
 * update methods run on the client's executor, before any code that receives the cache sees it.
 * {@link #onUpdateApplied} listeners learn of each update applied. An update that fails here (no
 * such method, bad arguments, the method threw) is logged and reported to the server, which
 * learns that this copy drifted.
 *
 * <p>Thread-safety: state changes arrive one at a time on the connection's executor; subclasses
 * read from other threads must publish their state safely (e.g. concurrent collections).
 */
public abstract class RemoteCache implements AutoCloseable {
  static {
    CacheHandle.install(RemoteCache::attach, RemoteCache::handleOf, RemoteCache::applyState);
  }

  private volatile CacheHandle handle;

  protected RemoteCache() {}

  private static void attach(RemoteCache cache, CacheHandle handle) {
    cache.handle = Objects.requireNonNull(handle);
  }

  private static CacheHandle handleOf(RemoteCache cache) {
    return cache.handle;
  }

  private static void applyState(RemoteCache cache, Object state) {
    cache.setState(state);
  }

  /** Replaces the whole state: at first, and again after updates were coalesced. */
  protected abstract void setState(Object state);

  /** True while the connection is open and the cache was not released. */
  public final boolean isConnected() {
    CacheHandle h = handle;
    return h != null && h.isConnected();
  }

  /** Runs {@code listener} on the executor when the connection is lost. */
  public final void onDisconnect(Runnable listener) {
    handle().onDisconnect(listener);
  }

  /** The connection that carries this cache. */
  public final PbConnection connection() {
    return handle().connection();
  }

  /**
   * Runs {@code listener} after each push applied to this cache: an update method that returned
   * normally, or a whole state after the server coalesced. It runs on the client's executor (never
   * a network thread), on the thread that applied the push and before the next push is applied,
   * so it sees every applied push once, in order. A push that failed here is not applied and not
   * reported to listeners (the server is told instead: {@link
   * BrokerBuilder#onUpdateFailure}). A listener that throws is logged; the update stays applied.
   *
   * <pre>{@code
   * cache.onUpdateApplied(u -> ui.refresh(u.method()));
   * }</pre>
   *
   * @throws IllegalStateException if this cache was not received from a connection
   */
  public final void onUpdateApplied(Consumer<? super Update> listener) {
    handle().onUpdateApplied(listener);
  }

  /**
   * One push applied to a {@link RemoteCache}, as its {@linkplain #onUpdateApplied update
   * listeners} see it.
   *
   * <p>Thread-safety: immutable (the argument list cannot be changed; the arguments are the
   * objects the update method received).
   *
   * @param method the {@link Remote @Remote} name of the update method that ran, or {@code
   *     "setState"} for a whole state
   * @param args the arguments the method received (for a whole state: the state)
   * @param wholeState true when the server replaced the whole state ({@link #setState}) after
   *     coalescing updates
   */
  public record Update(String method, List<Object> args, boolean wholeState) {
    public Update {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(args, "args");
    }
  }

  /** Stops observing: the server is told (in a batch) and calls its {@code stoppedObserving}. */
  public final void release() {
    handle().release();
  }

  /** Same as {@link #release()}. */
  @Override
  public final void close() {
    release();
  }

  private CacheHandle handle() {
    CacheHandle h = handle;
    if (h == null) {
      throw new IllegalStateException(
          getClass().getName() + " was not received from a connection");
    }
    return h;
  }
}
