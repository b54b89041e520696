package io.pbj.publish.internal;

import java.util.List;

/**
 * The proof in an attach answer that the server holds the key its id is derived from: the
 * origin's public key (whose SHA-256 is the id), the delegations from the origin to the key that
 * signed (empty when the origin itself answers; one per relay otherwise), the TLS binding the
 * server signed, and the signature over the attach statement (docs/PROTOCOL.md, "Server ids").
 *
 * <p>Not part of the public API. Immutable; the arrays are not copied (never mutated).
 *
 * @param originKey the origin's Ed25519 public key, X.509 encoded (44 bytes)
 * @param chain the delegations from the origin to the signing relay, origin first; empty when the
 *     origin signs
 * @param tlsBinding the SHA-256 of the TLS certificate the server presents on this connection (32
 *     bytes), or empty without TLS
 * @param signature the signing key's Ed25519 signature over the attach statement (64 bytes)
 */
@SuppressWarnings("ArrayRecordComponent")
public record ServerProof(
    byte[] originKey, List<Delegation> chain, byte[] tlsBinding, byte[] signature) {}
