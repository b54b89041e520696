/**
 * The origin-cluster benchmark (issue 14): three members of a cluster on Hazelcast in one JVM,
 * hundreds of clients attached across them, a member killed under a live driver; how fast and how
 * cheaply the orphaned clients re-attach, and the cluster's throughput of changes against one
 * plain origin. Run it with {@code java -jar pb-bench/target/pbj-bench.jar cluster}; see {@link
 * io.pbj.bench.cluster.ClusterBench}.
 */
package io.pbj.bench.cluster;
