package io.pbj.bench.rpc;

import java.util.Arrays;
import java.util.function.Supplier;

/** The stacks the RPC benchmark knows, in the order the table lists them. */
enum StackKind {
  NETTY("netty", "raw Netty", NettyStack::new),
  GRPC("grpc", "gRPC-java", GrpcStack::new),
  RMI("rmi", "JDK RMI", RmiStack::new),
  PBJ("pbj", "PBJ", PbjStack::new);

  private final String id;
  private final String displayName;
  private final Supplier<Stack> factory;

  StackKind(String id, String displayName, Supplier<Stack> factory) {
    this.id = id;
    this.displayName = displayName;
    this.factory = factory;
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
