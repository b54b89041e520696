package io.pbj.internal.auth;

import io.pbj.Avatar;
import io.pbj.AvatarId;
import io.pbj.PasswordChecker;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.Realm;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.ScramVerifier;
import io.pbj.internal.Connection;
import io.pbj.internal.LoginGate;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root object of one connection to a {@link io.pbj.Portal}: the only object reachable before
 * login. Its remote methods are the login protocol (docs/LOGIN.md).
 *
 * <p>State per connection: the one pending SCRAM challenge (replaced by each {@code scramStart},
 * consumed by the next {@code scramFinish} whatever its outcome, so a proof can be checked once),
 * the failed-attempt count, and whether a login is live. The challenge lives in this object,
 * which exists on one connection only, so it cannot be answered on another.
 *
 * <p>Thread-safety: thread-safe (state is guarded by this object's monitor).
 */
public final class LoginRoot implements Referenceable, LoginGate {
  private static final Logger log = LoggerFactory.getLogger(LoginRoot.class);

  /** The one message for a wrong user, a wrong password, a replayed or forged proof. */
  public static final String UNAUTHORIZED_LOGIN = "unauthorized login";


  /**
   * What a portal configures. Thread-safety: immutable (the secret is never modified).
   *
   * @param passwords null when password login is not allowed
   * @param secret the key of unknown users' fake salts
   */
  public record Settings(
      Realm realm,
      PasswordChecker passwords,
      boolean anonymousAllowed,
      int maxFailedLogins,
      byte[] secret) {
    public Settings {
      Objects.requireNonNull(realm, "realm");
      Objects.requireNonNull(secret, "secret");
    }
  }

  private final Connection connection;
  private final Settings settings;
  private Scram.ServerExchange pending;
  private int failures;
  private boolean locked;
  private boolean busy;

  public LoginRoot(Connection connection, Settings settings) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /**
   * Step 1 of password login: takes the SCRAM client-first message {@code n,,n=USER,r=CNONCE}
   * and answers the server-first message {@code r=CNONCE+SNONCE,s=SALT,i=ITERATIONS}. An unknown
   * user gets a deterministic fake salt and the usual iteration count.
   */
  @Remote
  public String scramStart(String clientFirstMessage) {
    synchronized (this) {
      checkUsable();
      pending = null;
    }
    PasswordChecker passwords = settings.passwords();
    if (passwords == null) {
      throw failed(new PbException(Code.UNAUTHORIZED, "password login is not allowed here"));
    }
    Scram.ClientFirst first;
    try {
      first = Scram.ClientFirst.parse(clientFirstMessage);
    } catch (PbException e) {
      throw failed(e);
    }
    Scram.Verifier verifier =
        passwords
            .verifier(first.username())
            .map(LoginRoot::verifier)
            .orElseGet(() -> fakeVerifier(first.username(), passwords.iterations()));
    Scram.ServerExchange exchange = new Scram.ServerExchange(first, verifier, Scram.nonce());
    synchronized (this) {
      pending = exchange;
    }
    return exchange.serverFirst();
  }

  /**
   * Step 2 of password login: takes the client-final message {@code c=biws,r=NONCE,p=PROOF} and
   * the client's mind (may be null); answers {@code [server-final message "v=SIGNATURE", avatar]}.
   */
  @Remote
  public CompletableFuture<List<Object>> scramFinish(
      String clientFinalMessage, RemoteReference mind) {
    Scram.ServerExchange exchange;
    synchronized (this) {
      checkUsable();
      exchange = pending;
      pending = null;
    }
    if (exchange == null) {
      throw failed(unauthorized());
    }
    String serverFinal;
    try {
      serverFinal = exchange.verify(clientFinalMessage);
    } catch (PbException e) {
      throw failed(e);
    }
    if (serverFinal == null) {
      throw failed(unauthorized());
    }
    return login(AvatarId.user(exchange.username()), mind)
        .thenApply(avatar -> List.of(serverFinal, avatar));
  }

  /** Anonymous login, if the portal allows it; answers the avatar. */
  @Remote
  public CompletableFuture<Referenceable> loginAnonymous(RemoteReference mind) {
    synchronized (this) {
      checkUsable();
      pending = null;
    }
    if (!settings.anonymousAllowed()) {
      throw failed(new PbException(Code.UNAUTHORIZED, "anonymous login is not allowed here"));
    }
    return login(AvatarId.ANONYMOUS, mind);
  }

  private void checkUsable() {
    if (locked) {
      throw new PbException(
          Code.UNAUTHORIZED,
          "too many failed logins on this connection (" + settings.maxFailedLogins() + ")");
    }
    if (busy) {
      throw new PbException(
          Code.UNAUTHORIZED,
          "already logged in on this connection; release the avatar to log out first");
    }
  }

  private static PbException unauthorized() {
    return new PbException(Code.UNAUTHORIZED, UNAUTHORIZED_LOGIN);
  }

  /** Counts a failed attempt; the last allowed one locks the connection and closes it. */
  private PbException failed(PbException cause) {
    boolean close;
    int count;
    synchronized (this) {
      count = ++failures;
      close = !locked && count >= settings.maxFailedLogins();
      if (close) {
        locked = true;
      }
    }
    if (close) {
      // after the failure answer this call is about to send, so the caller sees it first
      connection.goodbyeAfterReply("too many failed logins (" + count + ")");
    }
    return cause;
  }

  private CompletableFuture<Referenceable> login(AvatarId id, RemoteReference mind) {
    synchronized (this) {
      busy = true;
    }
    CompletionStage<Avatar> stage;
    try {
      stage =
          Objects.requireNonNull(
              settings.realm().requestAvatar(id, mind, connection),
              "Realm.requestAvatar returned null");
    } catch (RuntimeException e) {
      loggedOut();
      throw e;
    }
    CompletableFuture<Referenceable> answer = new CompletableFuture<>();
    stage.whenComplete(
        (avatar, failure) -> {
          if (failure == null && avatar == null) {
            failure = new NullPointerException("Realm.requestAvatar completed with null");
          }
          if (failure != null) {
            loggedOut();
            answer.completeExceptionally(failure);
            return;
          }
          Referenceable perspective = avatar.perspective();
          Runnable logout = logoutOnce(id, avatar);
          connection.setPerspective(perspective);
          // Runs when the client releases the avatar, the answer cannot be sent, or the
          // connection closes (at once if it already has).
          connection.whenDropped(perspective, logout);
          if (!answer.complete(perspective)) {
            logout.run(); // the call was cancelled: the avatar will never be sent
          }
        });
    return answer;
  }

  private Runnable logoutOnce(AvatarId id, Avatar avatar) {
    AtomicBoolean done = new AtomicBoolean();
    return () -> {
      if (!done.compareAndSet(false, true)) {
        return;
      }
      try {
        if (connection.perspective() == avatar.perspective()) {
          connection.setPerspective(null);
        }
        avatar.logout().run();
      } catch (RuntimeException e) {
        log.warn("{}: logout of {} failed", connection, id, e);
      } finally {
        loggedOut();
      }
    };
  }

  private synchronized void loggedOut() {
    busy = false;
  }

  private static Scram.Verifier verifier(ScramVerifier v) {
    return new Scram.Verifier(v.salt(), v.iterations(), v.storedKey(), v.serverKey());
  }

  /**
   * A verifier for a user that does not exist, the same on every attempt (so repeated attempts
   * do not reveal the user is unknown) and matching no password.
   */
  private Scram.Verifier fakeVerifier(String username, int iterations) {
    byte[] salt = Arrays.copyOf(derive("salt", username), Scram.SALT_BYTES);
    return new Scram.Verifier(
        salt, iterations, derive("stored-key", username), derive("server-key", username));
  }

  private byte[] derive(String purpose, String username) {
    return Scram.hmac(
        settings.secret(),
        ("pbj-scram-unknown-user\0" + purpose + "\0" + username).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public String toString() {
    return "LoginRoot[" + connection + "]";
  }
}
