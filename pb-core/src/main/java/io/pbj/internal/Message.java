package io.pbj.internal;

import java.util.List;

/**
 * One protocol message, as the codec hands it to the broker and takes it back. Nothing here is
 * reference counted: the codec owns every buffer.
 *
 * <p>Thread-safety: records, immutable (arguments and results are handed over, not copied).
 */
sealed interface Message {

  /**
   * Registry announcement, the first message after the preamble: the wire name of every id the
   * sender knows, the format fingerprint of each (0: none), and the protocol versions it speaks.
   * A HELLO from a peer built before version negotiation has no versions and no formats: it speaks
   * version 1 and its formats read as 0.
   */
  record Hello(
      List<Integer> ids,
      List<String> classNames,
      List<Integer> formats,
      int minVersion,
      int maxVersion)
      implements Message {
    /** A HELLO as a peer from before version negotiation sends it. */
    Hello(List<Integer> ids, List<String> classNames) {
      this(ids, classNames, java.util.Collections.nCopies(ids.size(), 0), 1, 1);
    }
  }

  /** A call of {@code method} on the receiver's exported object {@code target}. */
  record Call(int requestId, int target, String method, Object[] args, boolean oneWay)
      implements Message {}

  /** The result of call {@code requestId}. */
  record Answer(int requestId, Object result) implements Message {}

  /** The failure of call {@code requestId}: a code, a type name, a message, maybe a stack. */
  record Error(int requestId, ErrorInfo error) implements Message {}

  /** The sender dropped its proxies for these exported ids, having received each so many times. */
  record Release(int[] ids, int[] receipts) implements Message {}

  /** The sender no longer wants the answer to call {@code requestId}. */
  record Cancel(int requestId) implements Message {}

  /** The sender is closing the connection, for this reason. */
  record Goodbye(String reason) implements Message {}

  /** Runs the update method {@code method} of the receiver's cache for exported Cacheable {@code cacheId}. */
  record CacheUpdate(int cacheId, String method, Object[] args) implements Message {}

  /** Replaces the whole state of the receiver's cache for {@code cacheId} (after coalescing). */
  record CacheState(int cacheId, Object state) implements Message {}

  /**
   * The receiver's push {@code method} to the sender's cache {@code cacheId} failed there: one
   * notice at most per failed push, never answered (docs/PROTOCOL.md, "Failed updates").
   *
   * @param code the {@link io.pbj.PbException.Code} name
   * @param detail what failed, trimmed by the sender
   */
  record UpdateFailed(int cacheId, String method, String code, String detail)
      implements Message {}

  /** Liveness probe; the receiver answers with a {@link Pong} carrying the same nonce. */
  record Ping(long nonce) implements Message {}

  /** Answer to a {@link Ping}. */
  record Pong(long nonce) implements Message {}

  /**
   * A message whose envelope was read but whose values could not be decoded: the broker answers
   * or fails the one call it belongs to, and the connection goes on.
   */
  record Undecodable(byte type, int requestId, io.pbj.PbException cause) implements Message {}

  /**
   * A push (CACHE_UPDATE of {@code method}, or CACHE_STATE with {@code method} null) for cache
   * {@code cacheId} whose values could not be decoded: the receiver reports it to the sender.
   */
  record UndecodablePush(int cacheId, String method, io.pbj.PbException cause)
      implements Message {}

  /**
   * A failure as it travels: never a serialized Throwable.
   *
   * @param code the {@link io.pbj.PbException.Code} ordinal name
   * @param type the remote exception's class name
   * @param message its message, may be null
   * @param stack the remote stack as text, or null
   */
  record ErrorInfo(String code, String type, String message, String stack) {}
}
