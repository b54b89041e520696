package io.pbj.cred;

import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.internal.LoginHooks;
import java.util.Objects;

/**
 * The server side of login, in Twisted cred's shape: a {@link Realm} that creates avatars and the
 * {@link CredentialChecker}s that decide who may log in. Give each connection the portal's login
 * root as its root object; before login it is the only object a client can reach.
 *
 * <pre>{@code
 * Portal portal = Portal.builder(realm)
 *     .checker(PasswordChecker.builder().user("alice", "secret").build())
 *     .checker(AnonymousChecker.allow())                    // optional
 *     .build();
 * PbServer server = PbServer.builder().port(7000).rootFactory(portal::root).build().start();
 * }</pre>
 *
 * <p>What the login root enforces, per connection:
 *
 * <ul>
 *   <li>Wrong user and wrong password fail alike, with {@link PbException.Code#UNAUTHORIZED}
 *       "unauthorized login"; an unknown user is challenged like a known one.
 *   <li>A password challenge is single-use and belongs to the connection that asked for it: a
 *       proof answered on another connection, or replayed, fails.
 *   <li>After {@link Builder#maxFailedLogins} failed attempts (default 5) the connection is
 *       closed shortly after the last failure is answered, and further attempts on it fail.
 *   <li>One login at a time: while a connection is logged in (or a login is completing), another
 *       login on it fails with {@code UNAUTHORIZED} "already logged in". After logout (the avatar
 *       released) the connection may log in again. This keeps the connection's perspective,
 *       which views receive, unambiguous.
 *   <li>Logout (the {@link Avatar}'s callback) runs exactly once: when the client releases its
 *       last reference to the avatar, or when the connection closes.
 * </ul>
 *
 * <p>Thread-safety: immutable and thread-safe; one portal serves any number of connections.
 */
public final class Portal {
  private final LoginRoot.Settings settings;

  private Portal(Builder b) {
    this.settings =
        new LoginRoot.Settings(
            b.realm,
            b.passwords,
            b.anonymous != null,
            b.maxFailedLogins == null ? 5 : b.maxFailedLogins,
            b.secret == null ? Scram.randomBytes(32) : b.secret);
  }

  /** A builder for a portal over {@code realm}; add at least one checker. */
  public static Builder builder(Realm realm) {
    return new Builder(Objects.requireNonNull(realm, "realm"));
  }

  /**
   * The login root for {@code connection}: pass {@code portal::root} to {@link
   * PbServer.Builder#rootFactory}. Remote methods: {@code scramStart}, {@code scramFinish},
   * {@code loginAnonymous} (see docs/LOGIN.md); clients use {@link Login#login}.
   */
  public Referenceable root(PbConnection connection) {
    Objects.requireNonNull(connection, "connection");
    if (!(connection instanceof LoginHooks hooks)) {
      throw new IllegalArgumentException(
          "Portal.root needs the PbConnection a PbServer passes to its root factory, got a "
              + connection.getClass().getName());
    }
    return new LoginRoot(connection, hooks, settings);
  }

  @Override
  public String toString() {
    return "Portal[" + settings.realm() + ", passwords=" + (settings.passwords() != null)
        + ", anonymous=" + settings.anonymousAllowed() + "]";
  }

  /** Builds a {@link Portal}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private final Realm realm;
    private PasswordChecker passwords;
    private AnonymousChecker anonymous;
    private Integer maxFailedLogins;
    private byte[] secret;

    private Builder(Realm realm) {
      this.realm = realm;
    }

    /** Adds a checker; at most one of each kind. */
    public Builder checker(CredentialChecker checker) {
      Objects.requireNonNull(checker, "checker");
      if (checker instanceof PasswordChecker p) {
        if (passwords != null) {
          throw new IllegalStateException("Portal.Builder.checker: a PasswordChecker was already"
              + " added");
        }
        passwords = p;
      } else if (checker instanceof AnonymousChecker a) {
        if (anonymous != null) {
          throw new IllegalStateException("Portal.Builder.checker: an AnonymousChecker was already"
              + " added");
        }
        anonymous = a;
      }
      return this;
    }

    /** Failed login attempts a connection may make before it is closed. Default 5. */
    public Builder maxFailedLogins(int attempts) {
      if (maxFailedLogins != null) {
        throw new IllegalStateException("Portal.Builder.maxFailedLogins was already set");
      }
      if (attempts < 1) {
        throw new IllegalArgumentException("maxFailedLogins must be at least 1, got " + attempts);
      }
      maxFailedLogins = attempts;
      return this;
    }

    /**
     * The secret (at least 16 bytes) from which unknown users' fake salts are derived. Default: 32
     * random bytes per portal, which means an unknown user's salt changes when the server
     * restarts while a known user's does not; set a stable secret (kept as private as the
     * verifiers) to hide even that.
     */
    public Builder secret(byte[] secret) {
      Objects.requireNonNull(secret, "secret");
      if (this.secret != null) {
        throw new IllegalStateException("Portal.Builder.secret was already set");
      }
      if (secret.length < 16) {
        throw new IllegalArgumentException(
            "Portal.Builder.secret must be at least 16 bytes, got " + secret.length);
      }
      this.secret = secret.clone();
      return this;
    }

    /** Fails if no checker was added: such a portal could never let anyone in. */
    public Portal build() {
      if (passwords == null && anonymous == null) {
        throw new IllegalStateException(
            "Portal.Builder needs a checker (PasswordChecker or AnonymousChecker)");
      }
      return new Portal(this);
    }
  }
}
