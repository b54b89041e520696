package io.pbj.samples.chat;

import io.pbj.PbServer;
import io.pbj.cred.Avatar;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chat-server --port P --users alice=secret,bob=hunter2}: a chat server with password
 * login (SCRAM; only salted verifiers are kept) and rooms replicated to their members as
 * Cacheables.
 */
@Command(name = "chat-server", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Serve chat rooms with password login until killed.")
public final class ChatServer implements Callable<Integer> {
  @Option(names = "--port", required = true, description = "TCP port to listen on (0: any).")
  int port;

  @Option(names = "--host", defaultValue = "0.0.0.0", description = "Address to bind (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--users", required = true, split = ",",
      description = "Users as NAME=PASSWORD, comma separated.")
  Map<String, String> users = new LinkedHashMap<>();

  /** The rooms of one server, created on first use. Thread-safety: thread-safe. */
  static final class Rooms {
    private final Map<String, ChatRoom> rooms = new ConcurrentHashMap<>();

    ChatRoom get(String name) {
      if (name == null || name.isBlank() || name.length() > 64) {
        throw new IllegalArgumentException("room names are 1 to 64 characters");
      }
      return rooms.computeIfAbsent(name, ChatRoom::new);
    }
  }

  /** Builds (but does not start) a chat server for {@code users} at {@code host:port}. */
  public static PbServer build(String host, int port, Map<String, String> users) {
    PasswordChecker.Builder checker = PasswordChecker.builder();
    users.forEach(checker::user);
    Rooms rooms = new Rooms();
    Portal portal =
        Portal.builder(
                (id, mind, connection) -> {
                  ChatUser user = new ChatUser(id.name(), rooms);
                  return CompletableFuture.completedFuture(new Avatar(user, user::logout));
                })
            .checker(checker.build())
            .build();
    return PbServer.builder()
        .address(host, port)
        .registry(ChatModel.registry())
        .rootFactory(portal::root)
        .build();
  }

  @Override
  public Integer call() throws InterruptedException {
    if (users.isEmpty()) {
      System.err.println("chat-server: --users needs at least one NAME=PASSWORD");
      return 2;
    }
    PbServer server = build(host, port, users).start();
    Runtime.getRuntime().addShutdownHook(new Thread(server::close, "chat-server-shutdown"));
    System.out.println("chat-server listening on " + server.localAddress());
    new CountDownLatch(1).await();
    return 0;
  }
}
