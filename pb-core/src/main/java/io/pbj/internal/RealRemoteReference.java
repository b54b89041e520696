package io.pbj.internal;

import io.pbj.PbCall;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.RemoteReference;
import java.util.concurrent.CompletableFuture;

/**
 * The one implementation of {@link RemoteReference}: a remote id on one connection.
 *
 * <p>Thread-safety: thread-safe.
 */
final class RealRemoteReference implements RemoteReference {
  private final Connection connection;
  private final int id;
  private final ImportTable.State state;

  RealRemoteReference(Connection connection, int id, ImportTable.State state) {
    this.connection = connection;
    this.id = id;
    this.state = state;
  }

  int id() {
    return id;
  }

  ImportTable.State state() {
    return state;
  }

  Connection owner() {
    return connection;
  }

  @Override
  public CompletableFuture<Object> callRemote(String method, Object... args) {
    return call(null, method, args);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> CompletableFuture<T> callRemote(Class<T> resultType, String method, Object... args) {
    return (CompletableFuture<T>) (CompletableFuture<?>) call(resultType, method, args);
  }

  /** A call whose answer must be a {@code resultType} (checked as it completes), or any. */
  CompletableFuture<Object> call(Class<?> resultType, String method, Object... args) {
    PbException dead = deadness();
    if (dead != null) {
      return CompletableFuture.failedFuture(dead);
    }
    Object[] sent = args == null ? new Object[] {null} : args;
    Observability watch = connection.config().observability();
    if (watch.watchesCalls()) {
      return watch.call(
          new PbCall(PbCall.Side.CLIENT, connection, method, this, sent, null, false),
          () -> connection.outbound().call(id, method, sent, resultType));
    }
    return connection.outbound().call(id, method, sent, resultType);
  }

  static <T> T castResult(Class<T> resultType, String method, Object result) {
    Class<?> boxed = Reflection.box(resultType);
    if (result != null && !boxed.isInstance(result)) {
      throw new PbException(
          PbException.Code.BAD_RESULT,
          "'" + method + "' answered a " + result.getClass().getName() + ", not a "
              + resultType.getName());
    }
    @SuppressWarnings("unchecked")
    T t = (T) result;
    return t;
  }

  @Override
  public CompletableFuture<Void> callRemoteOneWay(String method, Object... args) {
    PbException dead = deadness();
    if (dead != null) {
      return CompletableFuture.failedFuture(dead);
    }
    Object[] sent = args == null ? new Object[] {null} : args;
    Observability watch = connection.config().observability();
    if (watch.watchesCalls()) {
      @SuppressWarnings("unchecked")
      CompletableFuture<Void> f =
          (CompletableFuture<Void>) (CompletableFuture<?>)
              watch.call(
                  new PbCall(PbCall.Side.CLIENT, connection, method, this, sent, null, true),
                  () -> unchecked(connection.outbound().callOneWay(id, method, sent)));
      return f;
    }
    return connection.outbound().callOneWay(id, method, sent);
  }

  @SuppressWarnings("unchecked")
  private static CompletableFuture<Object> unchecked(CompletableFuture<?> f) {
    return (CompletableFuture<Object>) f;
  }

  private PbException deadness() {
    if (state.isReleased()) {
      return new PbException(
          PbException.Code.DEAD_REFERENCE, "the reference to remote object #" + id
              + " was released");
    }
    if (!connection.isOpen()) {
      return new PbException(
          PbException.Code.DEAD_REFERENCE,
          "the connection of remote object #" + id + " is gone ("
              + connection.closeCause().detail() + ")");
    }
    return null;
  }

  @Override
  public <T> T as(Class<T> remoteInterface) {
    return TypedProxies.create(this, remoteInterface);
  }

  @Override
  public boolean isConnected() {
    return connection.isOpen() && !state.isReleased();
  }

  @Override
  public void onDisconnect(Runnable listener) {
    connection.onClose(cause -> listener.run());
  }

  @Override
  public PbConnection connection() {
    return connection;
  }

  @Override
  public void release() {
    connection.imports().release(this);
  }

  @Override
  public void close() {
    release();
  }

  @Override
  public String toString() {
    return "RemoteReference#" + id + "@" + connection.remoteAddress();
  }
}
