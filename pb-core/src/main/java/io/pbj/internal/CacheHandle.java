package io.pbj.internal;

import io.pbj.PbConnection;
import io.pbj.RemoteCache;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * What a {@link RemoteCache} knows of its connection: the exporter's id and the release state.
 * {@code RemoteCache} installs the accessors below in its static initializer, so this package can
 * attach handles without a public setter on the API class.
 *
 * <p>Thread-safety: immutable apart from the thread-safe release state.
 */
public final class CacheHandle {
  private static volatile BiConsumer<RemoteCache, CacheHandle> attacher;
  private static volatile Function<RemoteCache, CacheHandle> getter;
  private static volatile BiConsumer<RemoteCache, Object> stateSetter;

  /** Called once by {@link RemoteCache}'s static initializer. */
  public static synchronized void install(
      BiConsumer<RemoteCache, CacheHandle> attach,
      Function<RemoteCache, CacheHandle> get,
      BiConsumer<RemoteCache, Object> setState) {
    if (attacher != null) {
      throw new IllegalStateException("CacheHandle accessors are installed once, by RemoteCache");
    }
    attacher = attach;
    getter = get;
    stateSetter = setState;
  }

  /** Creates a RemoteCache with its no-argument constructor. */
  static RemoteCache instantiate(Class<? extends RemoteCache> type) {
    try {
      return type.cast(CONSTRUCTORS.get(type).newInstance());
    } catch (ReflectiveOperationException | RuntimeException e) {
      Throwable cause = e instanceof java.lang.reflect.InvocationTargetException i ? i.getCause() : e;
      throw new IllegalStateException("cannot create " + type.getName() + ": " + cause, cause);
    }
  }

  /** No-argument constructors, looked up once per class (the lookup costs more than the call). */
  private static final ClassValue<java.lang.reflect.Constructor<?>> CONSTRUCTORS =
      new ClassValue<>() {
        @Override
        protected java.lang.reflect.Constructor<?> computeValue(Class<?> type) {
          try {
            java.lang.reflect.Constructor<?> c = type.getDeclaredConstructor();
            c.trySetAccessible();
            return c;
          } catch (NoSuchMethodException e) {
            throw new IllegalStateException(type.getName() + " has no no-argument constructor", e);
          }
        }
      };

  static void setState(RemoteCache cache, Object state) {
    stateSetter.accept(cache, state);
  }

  /** Sets the first state, then applies what arrived for the cache before it. */
  static void initialise(RemoteCache cache, Object state) {
    CacheHandle handle = of(cache);
    try {
      setState(cache, state);
    } finally {
      java.util.List<Runnable> held;
      synchronized (handle) {
        handle.initialised = true;
        held = handle.held;
        handle.held = null;
      }
      if (held != null) {
        held.forEach(Runnable::run);
      }
    }
  }

  private boolean initialised;
  private java.util.List<Runnable> held;

  /**
   * If the cache has not had its first state yet, keeps {@code action} to run right after it and
   * returns true; otherwise returns false (run it now).
   */
  boolean deferUntilInitialised(Runnable action) {
    synchronized (this) {
      if (initialised) {
        return false;
      }
      if (held == null) {
        held = new java.util.ArrayList<>();
      }
      held.add(action);
      return true;
    }
  }

  static void attach(RemoteCache cache, CacheHandle handle) {
    ensureInstalled();
    attacher.accept(cache, handle);
  }

  private static void ensureInstalled() {
    if (attacher == null) {
      try {
        Class.forName(RemoteCache.class.getName(), true, RemoteCache.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static CacheHandle of(RemoteCache cache) {
    ensureInstalled();
    return getter.apply(cache);
  }

  final Connection connection;
  final int id;
  final ImportTable.State state;

  CacheHandle(Connection connection, int id, ImportTable.State state) {
    this.connection = connection;
    this.id = id;
    this.state = state;
  }

  public boolean isConnected() {
    return connection.isOpen() && !state.isReleased();
  }

  public void onDisconnect(Runnable listener) {
    connection.onClose(cause -> listener.run());
  }

  public PbConnection connection() {
    return connection;
  }

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CacheHandle.class);
  private static final LogLimiter LISTENER_FAILED = new LogLimiter(10);

  private final java.util.List<java.util.function.Consumer<? super RemoteCache.Update>> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Runs {@code listener} after each push applied to the cache (see {@link #updated}). */
  public void onUpdateApplied(java.util.function.Consumer<? super RemoteCache.Update> listener) {
    listeners.add(java.util.Objects.requireNonNull(listener, "listener"));
  }

  /**
   * A push was applied to {@code cache}: its listeners run here, on the sequential executor that
   * applied it, so they see every push in order and before the next one is applied. A listener
   * that throws is logged; the others still run.
   */
  void updated(RemoteCache cache, String method, Object[] args, boolean wholeState) {
    if (listeners.isEmpty()) {
      return;
    }
    RemoteCache.Update update =
        new RemoteCache.Update(
            method,
            java.util.Collections.unmodifiableList(java.util.Arrays.asList(args.clone())),
            wholeState);
    for (java.util.function.Consumer<? super RemoteCache.Update> l : listeners) {
      try {
        l.accept(update);
      } catch (RuntimeException e) {
        LISTENER_FAILED.warn(
            log, "{}: an update listener of {} failed", connection, cache.getClass().getName(), e);
      }
    }
  }

  public void release() {
    connection.imports().releaseCache(this);
  }
}
