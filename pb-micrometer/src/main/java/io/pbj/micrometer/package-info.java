/**
 * Micrometer metrics for PBJ: {@link io.pbj.micrometer.PbMetrics} binds a broker's {@link
 * io.pbj.PbListener}, a {@link io.pbj.publish.PublishedClient}'s {@link
 * io.pbj.publish.AttachListener} and a {@link io.pbj.store.SnapshotStore}'s sizes to a {@code
 * MeterRegistry}. Meter names and tags are listed in docs/OBSERVABILITY.md.
 */
package io.pbj.micrometer;
