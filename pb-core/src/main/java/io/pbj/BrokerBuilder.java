package io.pbj;

import io.pbj.internal.Options;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * Options shared by {@link PbServer.Builder} and {@link PbClient.Builder}. Each option may be set
 * once; setting it again fails at once, naming it.
 *
 * <p>Thread-safety: not thread-safe; use a builder from one thread.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class BrokerBuilder<B extends BrokerBuilder<B>> {
  final Options options;

  BrokerBuilder(String owner) {
    this.options = new Options(owner);
  }

  @SuppressWarnings("unchecked")
  private B self() {
    return (B) this;
  }

  /** The value and exception types this side can send and receive. Default: built-ins only. */
  public B registry(PbRegistry registry) {
    options.once("registry");
    options.registry = Objects.requireNonNull(registry, "registry");
    return self();
  }

  /**
   * Where remote methods, future completions and listeners run; never a network thread. The
   * caller keeps ownership (it is not shut down with the broker). Default: a cached pool of daemon
   * threads owned by the broker. The executor must run tasks on threads of its own: a direct
   * executor ({@code Runnable::run}) would run application code on network threads, which PBJ
   * does not support. For methods and callbacks that never block, {@link Remote#direct()} and
   * {@link #directCompletions(boolean)} run them on the network thread instead, safely.
   */
  public B executor(Executor executor) {
    options.once("executor");
    options.executor = Objects.requireNonNull(executor, "executor");
    return self();
  }

  /**
   * Whether the futures of this side's calls complete on the network thread (the Netty event
   * loop) that read the answer, instead of on the executor, so the callbacks chained on them
   * ({@code whenComplete}, {@code thenAccept}, ...) run there too: one thread hand-off fewer per
   * call, like gRPC's {@code directExecutor()} on a channel. Default false.
   *
   * <p><b>Warning: callbacks then run on the event loop.</b> Every callback chained on a call's
   * future must never block (no I/O, no {@code get()} or {@code join()} on a future, not even
   * another call's: the answer it waits for would have to be read by the very thread it blocks,
   * so one on an unanswered call fails at once with an {@link IllegalStateException})
   * and must return quickly, as no connection of that event loop is served while it runs.
   * Completions still run one at a time in the order the answers arrived. A caller blocked in
   * {@code get()} or {@code join()} on a call's future is handed the completion as before; an
   * answer that carries a new cache completes on the executor, after the cache's state is set.
   *
   * <pre>{@code
   * PbClient client = PbClient.builder().address("game.example", 7000)
   *     .directCompletions(true)
   *     .build();
   * }</pre>
   */
  public B directCompletions(boolean direct) {
    options.once("directCompletions");
    options.directCompletions = direct;
    return self();
  }

  /** Largest frame on the wire in bytes (messages above it are chunked). Default 1 MiB. */
  public B maxFrameSize(int bytes) {
    options.once("maxFrameSize");
    options.maxFrame = Options.positive("maxFrameSize", bytes);
    return self();
  }

  /**
   * Largest message (a call with its arguments, an answer) in bytes, both received and sent.
   * Default 64 MiB. It must hold this side's registry HELLO, the first message of every
   * connection, which names every built-in and registered type (about 30 to 60 bytes a type;
   * 984 bytes for the built-ins alone): a smaller value fails {@code build()}, naming the size the
   * HELLO needs. The peer's HELLO must fit too; one that does not fails the connection with
   * {@link PbException.Code#LIMIT_EXCEEDED} here, and the peer is told why in a GOODBYE.
   */
  public B maxMessageSize(int bytes) {
    options.once("maxMessageSize");
    options.maxMessage = Options.positive("maxMessageSize", bytes);
    return self();
  }

  /** Deepest nesting of values in one message. Default 64. */
  public B maxDepth(int levels) {
    options.once("maxDepth");
    options.maxDepth = Options.positive("maxDepth", levels);
    return self();
  }

  /**
   * Most objects this side exports on one connection. A result or argument that would exceed it
   * fails that call with {@link PbException.Code#LIMIT_EXCEEDED}; a second violation closes the
   * connection. Default 1,048,576.
   */
  public B maxReferences(int count) {
    options.once("maxReferences");
    options.maxReferences = Options.positive("maxReferences", count);
    return self();
  }

  /**
   * Most heap one incoming message may decode to, as a multiple of its size on the wire (plus 1
   * MiB for every message): every object, array and container slot the decoder creates is charged
   * against it as it is created, and a message that would take more is refused before it does.
   * A refused argument fails that call with {@link PbException.Code#LIMIT_EXCEEDED} ("... decodes
   * to more than the allocation budget of N bytes ...") and the connection goes on; a refused
   * result fails the call at the caller. Values take 1 to 10 times their size (byte arrays about
   * 1, records with strings about 5, lists and maps of numbers 3 to 10); large hash sets of small
   * numbers or short strings 20 to 28, which need a larger factor; a list of empty maps 26 to 52.
   * So one decode keeps at most this factor times {@link #maxMessageSize}, and at most one large
   * message per core is decoded at a time. Default 16; see docs/PROTOCOL.md, "Decoding limits".
   *
   * @param factor positive
   */
  public B maxDecodeExpansion(int factor) {
    options.once("maxDecodeExpansion");
    options.maxDecodeExpansion = Options.positive("maxDecodeExpansion", factor);
    return self();
  }

  /**
   * Keeps idle connections alive and detects dead ones: when this side has written nothing for
   * {@code interval} it sends a ping (which the peer answers); when no whole message has arrived
   * for {@code timeout} it closes the connection, failing pending calls with {@link
   * PbException.Code#CONNECTION_LOST} ("no traffic from ... for N ms"). Bytes alone do not count
   * (a peer trickling a byte at a time is not alive); each whole frame of a large message still
   * arriving does, and so does the peer draining a backlog of this side's output (a slow
   * download). Works against a peer without keep-alive (it still answers pings). Default: on a
   * server 15 s and 45 s, on a client off; {@code keepAlive(Duration.ZERO, Duration.ZERO)} turns
   * it off.
   *
   * <pre>{@code
   * builder.keepAlive(Duration.ofSeconds(10), Duration.ofSeconds(30))
   * }</pre>
   *
   * @param interval positive (or zero with a zero timeout: off)
   * @param timeout longer than {@code interval}
   */
  public B keepAlive(java.time.Duration interval, java.time.Duration timeout) {
    options.keepAlive(interval, timeout);
    return self();
  }

  /**
   * Interceptors for every call this side makes or runs, in order: the first sees a call first
   * (see {@link CallInterceptor}). Default: none.
   *
   * <pre>{@code
   * builder.interceptors(authCheck, timing)
   * }</pre>
   */
  public B interceptors(CallInterceptor... interceptors) {
    options.once("interceptors");
    Objects.requireNonNull(interceptors, "interceptors");
    for (int i = 0; i < interceptors.length; i++) {
      if (interceptors[i] == null) {
        throw new IllegalArgumentException("interceptors[" + i + "] is null");
      }
    }
    options.interceptors = java.util.List.of(interceptors);
    return self();
  }

  /**
   * Told of connections, calls, Cacheable pushes and backpressure on this side, for metrics (see
   * {@link PbListener}; {@code pb-micrometer} has one). Default: none.
   */
  public B eventListener(PbListener listener) {
    options.once("eventListener");
    options.eventListener = Objects.requireNonNull(listener, "listener");
    return self();
  }

  /**
   * Runs {@code listener}, on the executor, for each push of this side's Cacheables that the peer
   * reported as failed: an update method it does not have, arguments it does not take, a method
   * that threw, values it could not decode ({@link UpdateFailure}). Each connection's {@link
   * PbConnection.Stats#updateFailures()} counts them too, and they are logged (at most a line
   * every ten seconds). The listener gets one connection's failures one at a time, in the order
   * they arrived (different connections' at the same time). A peer reports at most one failure per
   * push (one more closes its connection); while 64 of a connection's failures wait for the
   * listener, further ones are counted but not delivered. Default: none.
   *
   * <pre>{@code
   * PbServer.builder().onUpdateFailure(f -> failures.increment(f.cacheable().getClass()))
   * }</pre>
   */
  public B onUpdateFailure(java.util.function.Consumer<? super UpdateFailure> listener) {
    options.once("onUpdateFailure");
    options.updateFailureListener = Objects.requireNonNull(listener, "listener");
    return self();
  }

  /** Whether failures sent to the peer carry this side's stack traces. Default false. */
  public B sendStackTraces(boolean send) {
    options.once("sendStackTraces");
    options.sendStackTraces = send;
    return self();
  }
}
