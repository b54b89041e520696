package io.pbj.cluster;

/** The state of a {@link ClusterCounter}: a registered record. */
public record Count(String name, int count) {}
