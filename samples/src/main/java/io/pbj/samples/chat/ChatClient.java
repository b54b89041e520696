package io.pbj.samples.chat;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.RemoteReference;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.samples.chat.ChatModel.ChatMessage;
import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code chat-client --port P --user U --room R [--password-file F] [--say TEXT] [--wait-for
 * TEXT] [--timeout S]}: logs in, joins the room, says TEXT, waits until a message containing the
 * {@code --wait-for} text is in the replicated room, prints the room as {@code NAME: TEXT} lines.
 * The password comes from the file given by {@code --password-file}, else the environment
 * variable {@code PBJ_PASSWORD}, else a prompt on the console; never from the command line, where
 * other users of the machine see it ({@code ps}) and the shell keeps it. The old {@code
 * --password} still works, with a warning. Exit codes: 0 done, 1 error or timeout, 2 bad
 * credentials or usage.
 */
@Command(name = "chat-client", mixinStandardHelpOptions = true, versionProvider = io.pbj.samples.VersionInfo.class,
    description = "Log in to a chat server, join a room, talk, print the room.")
public final class ChatClient implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Server host (default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", required = true, description = "Server TCP port.")
  int port;

  @Option(names = "--user", required = true, description = "User name.")
  String user;

  @Option(names = "--password-file", description = "File whose first line is the password"
      + " (else the environment variable " + PASSWORD_ENV + ", else a prompt).")
  Path passwordFile;

  /** Kept for old scripts only: the command line is visible to every user of the machine. */
  @Option(names = "--password", hidden = true)
  String password;

  static final String PASSWORD_ENV = "PBJ_PASSWORD";

  /** Where the password comes from; replaced in tests. */
  Map<String, String> environment = System.getenv();

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
    char[] secret = password();
    if (secret == null) {
      System.err.println("chat-client: no password: use --password-file FILE, set " + PASSWORD_ENV
          + ", or run it on a console to be asked");
      return 2;
    }
    String password = new String(secret);
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

  /** The password, from the first source that has one; null if none has. */
  private char[] password() throws IOException {
    if (passwordFile != null) {
      List<String> lines = Files.readAllLines(passwordFile, StandardCharsets.UTF_8);
      return lines.isEmpty() ? new char[0] : lines.get(0).toCharArray();
    }
    if (password != null) {
      System.err.println("chat-client: warning: --password shows the password to every user of"
          + " this machine (ps) and leaves it in the shell's history; use --password-file or "
          + PASSWORD_ENV + ", or let chat-client ask");
      return password.toCharArray();
    }
    String fromEnv = environment.get(PASSWORD_ENV);
    if (fromEnv != null) {
      return fromEnv.toCharArray();
    }
    Console console = System.console();
    return console == null || !isTerminal(console)
        ? null
        : console.readPassword("password for %s: ", user);
  }

  /**
   * From JDK 22 {@code System.console()} is not null when the streams are redirected; asking there
   * would read the password from a pipe. {@code Console.isTerminal()} (JDK 22) tells; before it, a
   * console exists only on a terminal.
   */
  private static boolean isTerminal(Console console) {
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
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
