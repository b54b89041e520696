package io.pbj.publish.internal;

import java.util.List;

/**
 * The server's answer to {@code attach}: who it is, which service and perspective the states are
 * for, and the published objects (each arrives as the client's RemotePublished, its {@link
 * WireState} already handed to it).
 *
 * <p>Not part of the public API. Immutable.
 *
 * @param serverId the origin server's stable id
 * @param service the service name
 * @param perspectiveKey the store key part naming the caller's perspective
 * @param inventoryUsed whether the server compared the client's inventory (else every state that
 *     was not sent in full must be checked against the store by the client)
 * @param objects the published objects, as caches
 * @param proof the proof that the server holds the key {@code serverId} is derived from; null
 *     when the client sent no nonce or the server's id is not proven
 * @param granted a delegation for the relay key the caller sent, or null
 */
public record AttachReply(
    String serverId,
    String service,
    String perspectiveKey,
    boolean inventoryUsed,
    List<Object> objects,
    ServerProof proof,
    Delegation granted) {}
