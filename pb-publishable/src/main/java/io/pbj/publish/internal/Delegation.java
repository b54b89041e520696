package io.pbj.publish.internal;

/**
 * A delegation certificate: the issuer (the origin, or the relay before this one in a chain)
 * lets the holder of {@code subjectKey} answer for the origin's id, one service and one
 * perspective key, until {@code expiresAt}. Signed over the delegation statement
 * (docs/PROTOCOL.md, "Server ids").
 *
 * <p>Not part of the public API. Immutable; the arrays are not copied (never mutated).
 *
 * @param subjectKey the relay's Ed25519 public key, X.509 encoded (44 bytes)
 * @param expiresAt when the delegation ends, in milliseconds since the epoch
 * @param signature the issuer's Ed25519 signature over the delegation statement (64 bytes)
 */
@SuppressWarnings("ArrayRecordComponent")
public record Delegation(byte[] subjectKey, long expiresAt, byte[] signature) {}
