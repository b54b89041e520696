package io.pbj.publish.internal;

/**
 * A published state that is a registered value, as it crosses the wire: pb-core's encoding of it
 * ({@code PbCodec.encode}). The server encodes a state once for every observer that gets it, and
 * the client decodes it once and stores these very bytes, instead of the value being encoded
 * inside each message and encoded again for the store.
 *
 * <p>Not part of the public API. Immutable; {@code bytes} is not copied (it is never mutated).
 *
 * @param bytes {@code PbCodec.encode} of the state
 */
@SuppressWarnings("ArrayRecordComponent")
public record EncodedState(byte[] bytes) {}
