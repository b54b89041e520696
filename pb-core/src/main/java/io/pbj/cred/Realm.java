package io.pbj.cred;

import io.pbj.PbConnection;
import io.pbj.RemoteReference;
import java.util.concurrent.CompletionStage;

/**
 * Creates the avatar (perspective) of a logged-in client, as Twisted cred's {@code IRealm}
 * does. A {@link Portal} calls it after a {@link CredentialChecker} accepted the login.
 *
 * <pre>{@code
 * Realm realm = (id, mind, connection) -> {
 *   ChatUser user = new ChatUser(id.name(), mind);   // mind: the client's callback, may be null
 *   online.put(id.name(), user);
 *   return CompletableFuture.completedFuture(new Avatar(user, () -> online.remove(id.name())));
 * };
 * }</pre>
 *
 * <p>Thread-safety: implementations must be thread-safe; logins on different connections call
 * it concurrently (on the server's executor, never on a network thread).
 */
@FunctionalInterface
public interface Realm {
  /**
   * The avatar for {@code id}. A failed stage (or a thrown exception) fails the login with that
   * failure.
   *
   * @param id who logged in
   * @param mind the reference the client passed to be called back through, or null if it passed
   *     none; keep it only as long as the avatar lives (drop it in the logout callback)
   * @param connection the connection logging in
   */
  CompletionStage<Avatar> requestAvatar(AvatarId id, RemoteReference mind, PbConnection connection);
}
