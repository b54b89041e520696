package io.pbj.bench.rpc;

import io.grpc.CallOptions;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * gRPC-java over its shaded Netty transport, plaintext on loopback, with one unary method whose
 * messages are raw {@code byte[]} (no protoc).
 *
 * <p>By default, default executors on both sides, as an application would run it: the server
 * method and the client's callbacks run off the event loop, as PBJ's do. With {@code direct},
 * {@code directExecutor()} on both the server and the channel builder: the method and the
 * callbacks run on gRPC's transport threads, its fastest configuration for methods that never
 * block. The marshaller hands gRPC a {@link KnownLength} {@link Drainable} stream, its fastest
 * path for a pre-built message.
 */
final class GrpcStack implements Stack {
  private static final String SERVICE = "pbj.bench.Echo";
  private static final long CALL_TIMEOUT_SECONDS = 30;
  private static final long SHUTDOWN_SECONDS = 5;

  static final MethodDescriptor<byte[], byte[]> ECHO =
      MethodDescriptor.<byte[], byte[]>newBuilder()
          .setType(MethodType.UNARY)
          .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Echo"))
          .setRequestMarshaller(new BytesMarshaller())
          .setResponseMarshaller(new BytesMarshaller())
          .build();

  private final boolean direct;
  private Server server;
  private ManagedChannel channel;

  /** @param direct {@code directExecutor()} on both sides rather than the default executors */
  GrpcStack(boolean direct) {
    this.direct = direct;
  }

  @Override
  public void start() throws IOException {
    ServerServiceDefinition service =
        ServerServiceDefinition.builder(SERVICE)
            .addMethod(
                ECHO,
                ServerCalls.asyncUnaryCall(
                    (request, response) -> {
                      response.onNext(request);
                      response.onCompleted();
                    }))
            .build();
    NettyServerBuilder serverBuilder =
        NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .addService(service);
    if (direct) {
      serverBuilder.directExecutor();
    }
    server = serverBuilder.build().start();
    NettyChannelBuilder channelBuilder =
        NettyChannelBuilder.forAddress(
                InetAddress.getLoopbackAddress().getHostAddress(), server.getPort())
            .usePlaintext();
    if (direct) {
      channelBuilder.directExecutor();
    }
    channel = channelBuilder.build();
  }

  @Override
  public byte[] call(byte[] payload) {
    return ClientCalls.blockingUnaryCall(
        channel,
        ECHO,
        CallOptions.DEFAULT.withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS),
        payload);
  }

  @Override
  public CompletionStage<byte[]> callAsync(byte[] payload) {
    CompletableFuture<byte[]> answer = new CompletableFuture<>();
    ClientCalls.asyncUnaryCall(
        channel.newCall(
            ECHO, CallOptions.DEFAULT.withDeadlineAfter(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS)),
        payload,
        new StreamObserver<>() {
          @Override
          public void onNext(byte[] value) {
            answer.complete(value);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            if (!answer.isDone()) {
              answer.completeExceptionally(new IllegalStateException("echo completed empty"));
            }
          }
        });
    return answer;
  }

  @Override
  public void close() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(SHUTDOWN_SECONDS, TimeUnit.SECONDS);
    }
  }

  /** {@code byte[]} as the whole message, with no copy beyond gRPC's own framing. */
  private static final class BytesMarshaller implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new BytesStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** A byte-array stream that tells gRPC its length and can write itself out in one go. */
  private static final class BytesStream extends ByteArrayInputStream
      implements KnownLength, Drainable {
    BytesStream(byte[] bytes) {
      super(bytes);
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      int drained = count - pos;
      target.write(buf, pos, drained);
      pos = count;
      return drained;
    }
  }
}
