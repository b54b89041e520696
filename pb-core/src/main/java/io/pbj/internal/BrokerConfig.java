package io.pbj.internal;

import io.pbj.PbRegistry;
import io.pbj.UpdateFailure;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * Settings shared by every connection of one server or client, resolved from its builder.
 *
 * <p>Thread-safety: immutable.
 *
 * @param registry the value and exception types both sides agree on
 * @param executor where user code and future completions run
 * @param maxFrame largest frame body in bytes
 * @param maxMessage largest message in bytes
 * @param maxDepth deepest value nesting
 * @param maxReferences most objects exported on one connection
 * @param sendStackTraces whether remote failures carry this side's stack trace
 * @param maxDecodeExpansion heap bytes an incoming message may decode to per byte of it
 * @param directCompletions whether this side's call futures complete on the event loop
 * @param observability the interceptors and event listener, and the JFR events
 * @param updateFailureListener told of each push the peer reported as failed, or null
 */
public record BrokerConfig(
    PbRegistry registry,
    Executor executor,
    int maxFrame,
    int maxMessage,
    int maxDepth,
    int maxReferences,
    boolean sendStackTraces,
    int maxDecodeExpansion,
    boolean directCompletions,
    Observability observability,
    Consumer<? super UpdateFailure> updateFailureListener) {

  /**
   * Settings without direct completions, interceptors, an event listener (JFR events still
   * apply) or an update-failure listener.
   */
  public BrokerConfig(
      PbRegistry registry,
      Executor executor,
      int maxFrame,
      int maxMessage,
      int maxDepth,
      int maxReferences,
      boolean sendStackTraces,
      int maxDecodeExpansion) {
    this(registry, executor, maxFrame, maxMessage, maxDepth, maxReferences, sendStackTraces,
        maxDecodeExpansion, false, Observability.NONE, null);
  }
}
