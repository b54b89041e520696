package io.pbj;

import java.util.concurrent.CompletableFuture;

/**
 * A proxy for a {@link Referenceable} on the other side of a connection.
 *
 * <pre>{@code
 * RemoteReference root = client.rootObject().join();
 * CompletableFuture<Object> answer = root.callRemote("echo", "hello");
 * Echo echo = root.as(Echo.class);          // typed: CompletableFuture<String> echo(String)
 * }</pre>
 *
 * <p>One connection holds at most one {@code RemoteReference} per remote object, so references
 * can be compared with {@code equals} (or {@code ==}) to tell whether two are the same remote
 * object. Releasing the reference ({@link #close()}, or letting it be garbage collected) tells
 * the exporter, which drops the object once every reference it sent has been released.
 *
 * <p>Thread-safety: safe for use by any number of threads; calls made from one thread are sent
 * in the order they were made.
 */
public interface RemoteReference extends AutoCloseable {

  /**
   * Calls {@code method} on the remote object. The future completes on the connection's
   * executor, never on a network thread (unless this side was built with {@link
   * BrokerBuilder#directCompletions(boolean) directCompletions(true)}), with the result or a
   * {@link PbException}. Cancelling it cancels the call locally and tells the peer.
   */
  CompletableFuture<Object> callRemote(String method, Object... args);

  /**
   * Calls {@code method} and casts its result to {@code resultType}; a result of another type
   * fails the future with {@link PbException.Code#BAD_RESULT}.
   */
  <T> CompletableFuture<T> callRemote(Class<T> resultType, String method, Object... args);

  /**
   * Sends a call that is never answered: no result, and remote failures are only logged by the
   * peer. Returns a future that completes when the call has been written to the network (or
   * fails if it could not be encoded or the connection is gone).
   */
  CompletableFuture<Void> callRemoteOneWay(String method, Object... args);

  /**
   * A typed view of this reference. Each method of {@code remoteInterface} returning a
   * {@code CompletableFuture} or {@code CompletionStage} becomes a call of the same name; each
   * method returning {@code void} a one-way call. Other return types fail here, naming
   * {@code Interface.method}.
   */
  <T> T as(Class<T> remoteInterface);

  /** True while the connection that carries this reference is open and it was not released. */
  boolean isConnected();

  /**
   * Runs {@code listener} on the connection's executor when the connection is lost (at once if it
   * already is). Releasing the reference does not run it.
   */
  void onDisconnect(Runnable listener);

  /** The connection that carries this reference. */
  PbConnection connection();

  /**
   * Releases this reference: later calls through it fail with {@link
   * PbException.Code#DEAD_REFERENCE}, and the exporter is told (in a batch). Idempotent.
   */
  void release();

  /** Same as {@link #release()}. */
  @Override
  void close();
}
