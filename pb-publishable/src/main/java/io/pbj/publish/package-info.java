/**
 * Published objects: {@link io.pbj.publish.Publishable} (server) and {@link
 * io.pbj.publish.RemotePublished} (client) are Cacheables whose snapshots the client keeps in its
 * {@link io.pbj.store.SnapshotStore} across sessions, refreshed by a version handshake so only
 * stale objects transfer; server ids proven by a key ({@link io.pbj.publish.ServerKey}); {@code
 * pb://} references ({@link io.pbj.publish.PbUrl}, {@link io.pbj.publish.PublishedResolver}); and
 * relays ({@link io.pbj.publish.Relay}). Built on pb-core's public API and the store; see {@code
 * docs/PUBLISHING.md}.
 */
package io.pbj.publish;
