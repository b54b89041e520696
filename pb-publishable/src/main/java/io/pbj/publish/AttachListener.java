package io.pbj.publish;

/**
 * Told of every {@link PublishedClient#attach} as it ends: how many objects came from the local
 * store (hits) and how many needed state from the server (inlined in the answer, or fetched in
 * the one extra call), or why it failed. Installed with {@link
 * PublishedClient.Builder#attachListener}; the {@code pb-micrometer} module has one that feeds
 * Micrometer. Each attach is also a JFR event, {@code io.pbj.Attach}, with no listener needed.
 *
 * <pre>{@code
 * PublishedClient client = PublishedClient.builder()
 *     .store(store)
 *     .expectedServerId(serverId)
 *     .attachListener(new AttachListener() {
 *       public void attached(Attachment a, long nanos) {
 *         log.info("{}: {} hits, {} misses", a.service(), a.hits(), a.inlined() + a.fetched());
 *       }
 *     })
 *     .build();
 * }</pre>
 *
 * <p>Threads: called on the thread that completes the attach (the connection's executor), never a
 * network thread. A listener that throws is logged and otherwise ignored.
 *
 * <p>Thread-safety: attaches on different connections end concurrently, so a listener shared by
 * them must be thread-safe.
 */
public interface AttachListener {

  /**
   * An attach succeeded after {@code nanos} nanoseconds: {@link Attachment#hits()}, {@link
   * Attachment#inlined()}, {@link Attachment#fetched()} and {@link Attachment#removed()} say what
   * it cost.
   */
  default void attached(Attachment attachment, long nanos) {}

  /** An attach to {@code service} failed after {@code nanos} nanoseconds, with {@code failure}. */
  default void attachFailed(String service, Throwable failure, long nanos) {}
}
