package io.pbj.bench.rpc;

import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/** The stacks the RPC benchmark knows, in the order the table lists them. */
enum StackKind {
  NETTY("netty", "raw Netty", true, NettyStack::new),
  GRPC("grpc", "gRPC-java", true, GrpcStack::new),
  RMI("rmi", "JDK RMI", true, RmiStack::new),
  PBJ("pbj", "PBJ", true, () -> new PbjStack(false)),
  /**
   * A diagnostic, not a configuration to use: PBJ with same-thread executors, so remote methods
   * and completions run on the event loop (against the house rule). Its distance from {@link
   * #PBJ} is the price of the executor hand-offs; from {@link #NETTY}, the price of the rest.
   */
  PBJ_SAME_THREAD("pbj-same-thread", "PBJ, same-thread executors (diagnostic)", false,
      () -> new PbjStack(true));

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
