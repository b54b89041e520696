package io.pbj.publish.internal;

/**
 * The state of a published object the client said it holds at the current version (inventory
 * mode): instead of the identity and version, the position of that entry in the inventory the
 * client sent with its attach, which the client resolves. A few bytes where a {@link WireState}
 * would repeat the identity and version the client just sent.
 *
 * <p>Not part of the public API. Immutable.
 *
 * @param index the entry's position in the attach call's inventory arrays
 * @param revision per-object order within one server process, as in {@link WireState}
 * @param format the encoding version of the current state, as in {@link WireState}
 */
public record HeldState(int index, long revision, int format) {}
