package io.pbj.cred;

import io.pbj.PbException;
import io.pbj.Referenceable;
import io.pbj.RemoteReference;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * The client side of login: logs in through a server's {@link Portal} login root and answers the
 * avatar (perspective) reference.
 *
 * <p>Password login is SCRAM-SHA-256: the client sends its user name and a nonce, the server
 * answers with a salt, an iteration count and its own nonce, and the client proves it knows the
 * password with a proof bound to both nonces. The server proves in turn that it holds the user's
 * verifier; a server that cannot fails the login (the avatar is released). Neither the password
 * nor anything replayable crosses the wire.
 *
 * <pre>{@code
 * RemoteReference root = client.rootObject().join();
 * RemoteReference avatar = Login.login(root, Credentials.password("alice", "secret"), new Mind())
 *     .join();
 * avatar.callRemote("say", "hello").join();
 * avatar.release();   // logs out
 * }</pre>
 *
 * <p>Thread-safety: thread-safe (stateless); the future completes on the connection's executor.
 */
public final class Login {
  private Login() {}

  /**
   * Logs in with {@code credentials}, passing {@code mind} (may be null) for the server to call
   * back. Fails with {@link PbException.Code#UNAUTHORIZED} for a wrong user or password, for
   * anonymous access the portal does not allow, and when the server fails to prove itself.
   * Releasing the answered reference logs out; so does letting it be garbage collected, so keep
   * it for as long as the session should last.
   *
   * @throws NullPointerException if {@code loginRoot} or {@code credentials} is null
   */
  public static CompletableFuture<RemoteReference> login(
      RemoteReference loginRoot, Credentials credentials, Referenceable mind) {
    Objects.requireNonNull(loginRoot, "loginRoot");
    Objects.requireNonNull(credentials, "credentials");
    if (credentials.isAnonymous()) {
      return loginRoot.callRemote("loginAnonymous", mind).thenApply(Login::avatar);
    }
    Scram.Client scram = new Scram.Client(credentials.username().orElseThrow(), credentials.secret());
    return loginRoot
        .callRemote(String.class, "scramStart", scram.clientFirst())
        .thenCompose(
            serverFirst ->
                loginRoot.callRemote(List.class, "scramFinish", scram.clientFinal(serverFirst), mind))
        .thenApply(
            answer -> {
              if (answer.size() != 2 || !(answer.get(0) instanceof String serverFinal)) {
                throw new PbException(
                    PbException.Code.BAD_RESULT,
                    "scramFinish must answer [server-final message, avatar], got " + answer);
              }
              RemoteReference avatar = avatar(answer.get(1));
              if (!scram.verifyServerFinal(serverFinal)) {
                avatar.release();
                throw new PbException(
                    PbException.Code.UNAUTHORIZED,
                    "the server failed to prove it holds the password verifier; logged out");
              }
              return avatar;
            });
  }

  private static RemoteReference avatar(Object answer) {
    if (answer instanceof RemoteReference ref) {
      return ref;
    }
    throw new PbException(
        PbException.Code.BAD_RESULT,
        "the login root answered " + (answer == null ? "null" : "a " + answer.getClass().getName())
            + " instead of an avatar reference");
  }
}
