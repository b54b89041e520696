package io.pbj.publish.internal;

/**
 * One published object's state as it crosses the wire: in the attach answer (as the state of the
 * object's cache), in a batched fetch answer, and in a republish push.
 *
 * <p>{@code state} is null when the server sends only the version: "unchanged" in inventory mode
 * (the client's stored copy has this version), "compare yourself" in versions mode. {@code
 * revision} orders states of one object within one server process (a republish pushed while a
 * fetch is in flight must not be overwritten by the older fetch answer); it is not persisted.
 *
 * <p>Not part of the public API. Immutable; {@code state} is not copied (it is never mutated).
 *
 * @param identity the published identity
 * @param version the published version (compared for equality only)
 * @param revision per-object order within one server process
 * @param format the encoding version of {@code state}, chosen by the publisher
 * @param state the state: the application's encoding ({@code byte[]}), or pb-core's encoding of a
 *     registered value ({@link EncodedState}), or null when only the version is sent
 */
@SuppressWarnings("ArrayRecordComponent")
public record WireState(String identity, long version, long revision, int format, Object state) {}
