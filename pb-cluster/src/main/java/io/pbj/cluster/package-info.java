/**
 * An origin cluster: one published world served by several origin members that share its
 * objects, versions and states in a Hazelcast map, all under one proven server id, so a client's
 * store stays valid whichever member it attaches to. See docs/CLUSTER.md.
 */
package io.pbj.cluster;
