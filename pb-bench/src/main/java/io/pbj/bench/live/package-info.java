/**
 * The live-world benchmark: many published objects changing by small deltas (or by whole states,
 * side by side) while many clients stay attached, with objects published and unpublished
 * meanwhile. Run it with {@code java -jar pb-bench/target/pbj-bench.jar live}; see {@link
 * io.pbj.bench.live.LiveBench}.
 */
package io.pbj.bench.live;
