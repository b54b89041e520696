package io.pbj.cred;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.internal.LoginGate;
import io.pbj.internal.LoginHooks;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The root object of one connection to a {@link Portal}: the only object reachable before
 * login. Its remote methods are the login protocol (docs/LOGIN.md).
 *
 * <p>State per connection: the one pending SCRAM challenge (replaced by each {@code scramStart},
 * consumed by the next {@code scramFinish} whatever its outcome, so a proof can be checked once),
 * the failed-attempt count, whether a failure's answer is being delayed, and whether a login is
 * live. The challenge lives in this object, which exists on one connection only, so it cannot be
 * answered on another. Counts across connections live in the portal's {@link LoginThrottle}.
 *
 * <p>Thread-safety: thread-safe (state is guarded by this object's monitor).
 */
final class LoginRoot implements Referenceable, LoginGate {
  private static final Logger log = LoggerFactory.getLogger(LoginRoot.class);

  /** The one message for a wrong user, a wrong password, a replayed or forged proof. */
  static final String UNAUTHORIZED_LOGIN = "unauthorized login";

  /** The one message for every refusal by the portal's throttle, whatever the account. */
  static final String THROTTLED = "too many failed logins; try again later";

  static final String REFUSED = "refused (too many failed logins)";

  /**
   * What a portal configures. Thread-safety: immutable (the secret is never modified).
   *
   * @param passwords null when password login is not allowed
   * @param secret the key of unknown users' fake salts
   * @param throttle failed-login counts shared by the portal's connections
   * @param audit the rate-limited log of failed logins
   * @param clock delays failure answers
   */
  record Settings(
      Realm realm,
      PasswordChecker passwords,
      boolean anonymousAllowed,
      int maxFailedLogins,
      byte[] secret,
      LoginThrottle throttle,
      LoginAudit audit,
      LoginClock clock) {
    Settings {
      Objects.requireNonNull(realm, "realm");
      Objects.requireNonNull(secret, "secret");
      Objects.requireNonNull(throttle, "throttle");
      Objects.requireNonNull(audit, "audit");
      Objects.requireNonNull(clock, "clock");
    }
  }

  /** A challenge sent and not yet answered. */
  private record Challenge(Scram.ServerExchange exchange, long account, boolean knownUser) {}

  private final PbConnection connection;
  private final LoginHooks hooks;
  private final Settings settings;
  private final LoginThrottle throttle;
  /** The throttle's key for this connection's address group, or null (not an IP address). */
  private final Long addressKey;
  /** The address as the audit log names it. */
  private final String addressText;

  @GuardedBy("this")
  private Challenge pending;
  @GuardedBy("this")
  private int failures;
  @GuardedBy("this")
  private boolean locked;
  @GuardedBy("this")
  private boolean answering;
  @GuardedBy("this")
  private boolean busy;

  /** {@code hooks} is {@code connection} itself, seen through the broker's internal interface. */
  LoginRoot(PbConnection connection, LoginHooks hooks, Settings settings) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.hooks = Objects.requireNonNull(hooks, "hooks");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.throttle = settings.throttle();
    String group = LoginThrottle.addressGroup(connection.remoteAddress());
    this.addressKey = group == null ? null : throttle.addressKey(group);
    this.addressText = group != null ? group : String.valueOf(connection.remoteAddress());
  }

  /**
   * Step 1 of password login: takes the SCRAM client-first message {@code n,,n=USER,r=CNONCE}
   * and answers the server-first message {@code r=CNONCE+SNONCE,s=SALT,i=ITERATIONS}. An unknown
   * user gets a deterministic fake salt and the usual iteration count. A challenge left
   * unanswered counts as a failed attempt, here and in the throttle.
   */
  @Remote
  public String scramStart(String clientFirstMessage) {
    abandonPendingChallenge();
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
    String name = first.username();
    long account = throttle.accountKey(name);
    if (!throttle.admitStart(account, addressKey)) {
      settings.audit().failed(name, addressText, REFUSED);
      throw failed(throttled());
    }
    Optional<ScramVerifier> stored = passwords.verifier(name);
    // derived for known users too, so that an unknown user does not answer measurably slower
    Scram.Verifier fake = fakeVerifier(name, passwords.iterations());
    Scram.Verifier verifier = stored.map(LoginRoot::verifier).orElse(fake);
    Scram.ServerExchange exchange = new Scram.ServerExchange(first, verifier, Scram.nonce());
    synchronized (this) {
      pending = new Challenge(exchange, account, stored.isPresent());
    }
    return exchange.serverFirst();
  }

  /**
   * Step 2 of password login: takes the client-final message {@code c=biws,r=NONCE,p=PROOF} and
   * the client's mind (may be null); answers {@code [server-final message "v=SIGNATURE", avatar]}.
   *
   * <p>A wrong proof is answered after the throttle's delay, by the same path for an unknown user
   * and a wrong password: the account key, the charge, the check and the delay do not depend on
   * whether the user exists.
   */
  @Remote
  public CompletableFuture<List<Object>> scramFinish(
      String clientFinalMessage, RemoteReference mind) {
    Challenge challenge;
    synchronized (this) {
      checkUsable();
      challenge = pending;
      pending = null;
    }
    if (challenge == null) {
      throw failed(unauthorized());
    }
    String name = challenge.exchange().username();
    if (!throttle.admitProof(challenge.account())) {
      settings.audit().failed(name, addressText, REFUSED);
      throw failed(throttled());
    }
    throttle.countPasswordCheck();
    String serverFinal;
    try {
      serverFinal = challenge.exchange().verify(clientFinalMessage);
    } catch (PbException e) {
      settings.audit().failed(name, addressText, "malformed client-final message");
      throw failed(e);
    }
    if (serverFinal == null) {
      settings.audit().failed(
          name, addressText, challenge.knownUser() ? "wrong password" : "unknown user");
      PbException failure = failed(unauthorized());
      return answerLater(failure, throttle.failureDelayNanos(challenge.account(), addressKey));
    }
    throttle.succeeded(challenge.account(), addressKey);
    settings.audit().succeeded(name, addressText);
    return login(AvatarId.user(name), mind).thenApply(avatar -> List.of(serverFinal, avatar));
  }

  /** Anonymous login, if the portal allows it; answers the avatar. */
  @Remote
  public CompletableFuture<Referenceable> loginAnonymous(RemoteReference mind) {
    abandonPendingChallenge();
    if (!settings.anonymousAllowed()) {
      throw failed(new PbException(Code.UNAUTHORIZED, "anonymous login is not allowed here"));
    }
    return login(AvatarId.ANONYMOUS, mind);
  }

  /** Caller holds this object's monitor. */
  private void checkUsable() {
    if (locked) {
      throw lockedOut();
    }
    if (answering) {
      // a client that does not wait for a failure's answer gains nothing from the delay
      throw failed(
          new PbException(
              Code.UNAUTHORIZED,
              "the last failed login on this connection has not been answered yet"));
    }
    if (busy) {
      throw new PbException(
          Code.UNAUTHORIZED,
          "already logged in on this connection; release the avatar to log out first");
    }
  }

  /**
   * Forgets the pending challenge before another login call; one left unanswered counts as a
   * failed attempt (so a connection cannot ask for challenges without end), and fails this call if
   * that was the connection's last.
   */
  private void abandonPendingChallenge() {
    boolean abandoned;
    synchronized (this) {
      checkUsable();
      abandoned = pending != null;
      pending = null;
    }
    if (abandoned) {
      failed(null);
      synchronized (this) {
        if (locked) {
          throw lockedOut();
        }
      }
    }
  }

  private PbException lockedOut() {
    return new PbException(
        Code.UNAUTHORIZED,
        "too many failed logins on this connection (" + settings.maxFailedLogins() + ")");
  }

  private static PbException unauthorized() {
    return new PbException(Code.UNAUTHORIZED, UNAUTHORIZED_LOGIN);
  }

  private static PbException throttled() {
    return new PbException(Code.UNAUTHORIZED, THROTTLED);
  }

  /**
   * Fails the call with {@code failure} after {@code delayNanos}, without holding a thread: the
   * portal's clock completes the answer later, and until then this connection's login calls are
   * refused (and counted), so the delay also spaces this connection's password checks.
   */
  private <T> CompletableFuture<T> answerLater(PbException failure, long delayNanos) {
    if (delayNanos <= 0) {
      throw failure;
    }
    CompletableFuture<T> answer = new CompletableFuture<>();
    synchronized (this) {
      answering = true;
    }
    answer.whenComplete((r, t) -> answered()); // also when the call is cancelled
    settings.clock().schedule(new DelayedFailure(answer, failure, delayNanos), delayNanos);
    return answer;
  }

  private synchronized void answered() {
    answering = false;
  }

  /** The scheduled end of a delay: frees the connection, then sends the failure. */
  final class DelayedFailure implements Runnable {
    private final CompletableFuture<?> answer;
    private final PbException failure;
    private final long delayNanos;

    DelayedFailure(CompletableFuture<?> answer, PbException failure, long delayNanos) {
      this.answer = answer;
      this.failure = failure;
      this.delayNanos = delayNanos;
    }

    @Override
    public void run() {
      answered(); // before the answer is written, so a client that got it can try again at once
      answer.completeExceptionally(failure);
    }

    @Override
    public String toString() {
      return "DelayedFailure[" + connection + ", " + delayNanos / 1_000_000 + " ms]";
    }
  }

  /**
   * Counts a failed attempt; the last allowed one locks the connection and closes it. Answers
   * {@code cause}, which the caller throws.
   */
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
      hooks.goodbyeAfterReply("too many failed logins (" + count + ")");
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
          hooks.setPerspective(perspective);
          // Runs when the client releases the avatar, the answer cannot be sent, or the
          // connection closes (at once if it already has).
          hooks.whenDropped(perspective, logout);
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
        if (hooks.perspective() == avatar.perspective()) {
          hooks.setPerspective(null);
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
