/**
 * The benchmark launcher: {@code java -jar pb-bench/target/pbj-bench.jar <benchmark>} runs one of
 * the benchmarks in the sub-packages side by side with its peers; see {@link
 * io.pbj.bench.BenchMain} and {@code docs/BENCHMARKS.md}. Not a library: nothing depends on it.
 */
package io.pbj.bench;
