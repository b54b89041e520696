/**
 * The many-clients benchmark (issue 11, target 7): hundreds of clients attaching warm to one
 * publishing server, then ticks of updates reaching all of them, directly and through a tree of
 * relays. Run it with {@code java -jar pb-bench/target/pbj-bench.jar scale}; see {@link
 * io.pbj.bench.scale.ScaleBench}.
 */
package io.pbj.bench.scale;
