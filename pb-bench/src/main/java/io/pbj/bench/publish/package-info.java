/**
 * The publishing benchmark: reactivation of many published objects at several stale levels, for
 * PBJ's inventory and versions handshakes, an ordinary Cacheable per object and a per-object fetch
 * baseline after Twisted's publish.py, on loopback and through a proxy that simulates a slower
 * link ({@link io.pbj.bench.publish.LinkProxy}). Run it with
 * {@code java -jar pb-bench/target/pbj-bench.jar publish}; see
 * {@link io.pbj.bench.publish.PublishBench}.
 */
package io.pbj.bench.publish;
