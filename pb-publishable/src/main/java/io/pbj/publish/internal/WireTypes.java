package io.pbj.publish.internal;

import java.util.List;

/**
 * The value types the publishing handshake sends, in the order both sides register them.
 *
 * <p>Not part of the public API. Immutable.
 */
public final class WireTypes {
  private WireTypes() {}

  /** Registered in this order after the application's own types. */
  public static final List<Class<?>> TYPES = List.of(
      WireState.class, AttachReply.class, HeldState.class, ServerProof.class, Delegation.class,
      EncodedState.class);
}
