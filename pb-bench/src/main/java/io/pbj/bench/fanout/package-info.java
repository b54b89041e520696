/**
 * The fan-out benchmark of issue 3: one {@link io.pbj.Cacheable} updated in a loop and observed by
 * 10, 100 and 1,000 clients over loopback TCP, against a raw Netty broadcast of frames of the same size
 * (the floor). Run it with {@code java -cp pb-bench/target/pbj-bench.jar
 * io.pbj.bench.fanout.FanoutBench}; see {@link io.pbj.bench.fanout.FanoutBench}.
 */
package io.pbj.bench.fanout;
