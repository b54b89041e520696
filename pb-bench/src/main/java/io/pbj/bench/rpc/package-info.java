/**
 * The RPC benchmark of issue 2: round-trip latency and pipelined throughput of an echo call over
 * loopback TCP, for PBJ and its peers (raw Netty as the floor, gRPC-java, JDK RMI). Run it with
 * {@code java -jar pb-bench/target/pbj-bench.jar rpc}; see {@link io.pbj.bench.rpc.RpcBench}.
 */
package io.pbj.bench.rpc;
