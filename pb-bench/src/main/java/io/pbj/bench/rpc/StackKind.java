package io.pbj.bench.rpc;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** The stacks the RPC benchmark knows, in the order the table lists them. */
enum StackKind {
  NETTY("netty", "raw Netty", true, NettyStack::new),
  GRPC("grpc", "gRPC-java", true, () -> new GrpcStack(false)),
  /** gRPC's fastest configuration: {@code directExecutor()} on the server and the channel. */
  GRPC_DIRECT("grpc-direct", "gRPC-java, directExecutor()", true, () -> new GrpcStack(true)),
  RMI("rmi", "JDK RMI", true, RmiStack::new),
  /** PBJ's own bench path: {@code callRemote(...)}, sequential calls wait in {@code get()}. */
  PBJ("pbj", "PBJ", true, () -> new PbjStack(PbjStack.Mode.DEFAULT)),
  /** As the samples write calls: a typed proxy, {@code whenComplete} and a semaphore. */
  PBJ_CALLBACKS("pbj-callbacks", "PBJ, callbacks (as the samples)", true,
      () -> new PbjCallbackStack(PbjCallbackStack.Style.CALLBACK)),
  /** A typed proxy, each sequential call made from the previous call's callback. */
  PBJ_CHAIN("pbj-chain", "PBJ, callback chain", true,
      () -> new PbjCallbackStack(PbjCallbackStack.Style.CHAIN)),
  /** A typed proxy, sequential calls wait in {@code get()}. */
  PBJ_PROXY_GET("pbj-proxy-get", "PBJ, typed proxy + get()", false,
      () -> new PbjCallbackStack(PbjCallbackStack.Style.GET)),
  /**
   * PBJ with its opt-in direct mode: the echo method is {@code @Remote(direct = true)} and the
   * client completes call futures on the event loop ({@code directCompletions(true)}).
   */
  PBJ_DIRECT("pbj-direct", "PBJ, direct mode", true, () -> new PbjStack(PbjStack.Mode.DIRECT)),
  /**
   * A diagnostic, not a configuration to use: PBJ with same-thread executors, so remote methods
   * and completions run on the event loop (against the house rule). Its distance from {@link
   * #PBJ} is the price of the executor hand-offs; from {@link #NETTY}, the price of the rest.
   */
  PBJ_SAME_THREAD("pbj-same-thread", "PBJ, same-thread executors (diagnostic)", false,
      () -> new PbjStack(PbjStack.Mode.SAME_THREAD));

  private final String id;
  private final String displayName;
  private final boolean inDefaultRun;
  private final Supplier<Stack> factory;

  StackKind(String id, String displayName, boolean inDefaultRun, Supplier<Stack> factory) {
    this.id = id;
    this.displayName = displayName;
    this.inDefaultRun = inDefaultRun;
    this.factory = factory;
  }

  /** The stacks measured when {@code --stacks} is not given. */
  static List<StackKind> defaults() {
    return Arrays.stream(values()).filter(kind -> kind.inDefaultRun).toList();
  }

  /** The name used on the command line ({@code --stacks netty,pbj}). */
  String id() {
    return id;
  }

  /** The name shown in the table. */
  String displayName() {
    return displayName;
  }

  /** A new, unstarted stack of this kind. */
  Stack newStack() {
    return factory.get();
  }

  /** The stack whose {@link #id()} is {@code id}; fails naming the id and the known ones. */
  static StackKind byId(String id) {
    for (StackKind kind : values()) {
      if (kind.id.equals(id)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "unknown stack '" + id + "'; known: "
            + String.join(",", Arrays.stream(values()).map(StackKind::id).toList()));
  }
}
