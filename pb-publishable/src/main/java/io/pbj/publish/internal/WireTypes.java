package io.pbj.publish.internal;

import java.util.List;

/**
 * The value types the publishing handshake sends, registered as {@code "pbj.publish."} and their
 * simple names (so a class here must never be renamed, or must keep its wire name).
 *
 * <p>Not part of the public API. Immutable.
 */
public final class WireTypes {
  private WireTypes() {}

  public static final List<Class<?>> TYPES = List.of(
      WireState.class, AttachReply.class, HeldState.class, ServerProof.class, Delegation.class,
      EncodedState.class);
}
