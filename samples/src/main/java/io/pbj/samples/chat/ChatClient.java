package io.pbj.samples.chat;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.RemoteReference;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.samples.chat.ChatModel.ChatMessage;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chat-client --port P --user U --password W --room R [--say TEXT] [--wait-for TEXT]
 * [--timeout S]}: logs in, joins the room, says TEXT, waits until a message containing the
 * {@code --wait-for} text is in the replicated room, prints the room as {@code NAME: TEXT} lines.
 * Exit codes: 0 done, 1 error or timeout, 2 bad credentials or usage.
 */
@Command(name = "chat-client", mixinStandardHelpOptions = true,
    description = "Log in to a chat server, join a room, talk, print the room.")
public final class ChatClient implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", required = true, description = "Server TCP port.")
  int port;

  @Option(names = "--user", required = true, description = "User name.")
  String user;

  @Option(names = "--password", required = true, description = "Password.")
  String password;

  @Option(names = "--room", required = true, description = "Room to join.")
  String room;

  @Option(names = "--say", description = "Text to say in the room.")
  String say;

  @Option(names = "--wait-for", description = "Wait until a message containing this text is in the room.")
  String waitFor;

  @Option(names = "--timeout", defaultValue = "30", description = "Seconds to wait at most (default ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public Integer call() throws Exception {
    try (PbClient client =
        PbClient.builder().address(host, port).registry(ChatModel.registry()).build()) {
      RemoteReference avatar;
      try {
        RemoteReference root = client.rootObject().get(timeoutSeconds, TimeUnit.SECONDS);
        avatar =
            Login.login(root, Credentials.password(user, password), null)
                .get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof PbException pb
            && pb.code() == PbException.Code.UNAUTHORIZED) {
          System.err.println("chat-client: login failed for " + user + ": " + pb.detail());
          return 2;
        }
        throw e;
      }
      RoomCache cache =
          avatar.callRemote(RoomCache.class, "join", room).get(timeoutSeconds, TimeUnit.SECONDS);
      CompletableFuture<Void> seen =
          waitFor == null ? CompletableFuture.completedFuture(null) : until(cache, m -> m.text().contains(waitFor));
      if (say != null) {
        // the room pushes our own line back to us too: wait for it, so the printout has it
        CompletableFuture<Void> echoed =
            until(cache, m -> m.from().equals(user) && m.text().equals(say));
        avatar.callRemote("say", room, say).get(timeoutSeconds, TimeUnit.SECONDS);
        echoed.get(timeoutSeconds, TimeUnit.SECONDS);
      }
      try {
        seen.get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        print(cache);
        System.err.println(
            "chat-client: no message containing \"" + waitFor + "\" within " + timeoutSeconds
                + " s");
        return 1;
      }
      print(cache);
      return 0;
    } catch (ExecutionException e) {
      System.err.println("chat-client: " + e.getCause().getMessage());
      return 1;
    } catch (TimeoutException e) {
      System.err.println("chat-client: timed out after " + timeoutSeconds + " s");
      return 1;
    }
  }

  /** Completes once the replicated room holds a message matching {@code test}. */
  private static CompletableFuture<Void> until(RoomCache cache, Predicate<ChatMessage> test) {
    CompletableFuture<Void> found = new CompletableFuture<>();
    cache.onChange(c -> {
      if (c.messages().stream().anyMatch(test)) {
        found.complete(null);
      }
    });
    if (cache.messages().stream().anyMatch(test)) {
      found.complete(null);
    }
    return found;
  }

  private static void print(RoomCache cache) {
    for (ChatMessage m : cache.messages()) {
      System.out.println(m.from() + ": " + m.text());
    }
  }
}
