/**
 * The local snapshot store: {@link io.pbj.store.SnapshotStore} maps a {@link
 * io.pbj.store.SnapshotKey} (server, service, perspective, identity) to a {@link
 * io.pbj.store.Snapshot} (version, format, state bytes), over MapDB, H2 MVStore or memory. Every
 * entry is checksummed, a damaged file is quarantined and replaced, and the store is bounded in
 * bytes with least-recently-used eviction; see {@code docs/STORE.md}. This package knows nothing
 * of the network.
 */
package io.pbj.store;
