/**
 * Test support for code that uses PBJ: {@link io.pbj.testing.PbCleanup}, the JUnit 5 extension
 * that closes servers and clients after each test and fails it if a PBJ thread or a Netty buffer
 * leaked (as grpc-java's {@code GrpcCleanupRule}).
 */
package io.pbj.testing;
