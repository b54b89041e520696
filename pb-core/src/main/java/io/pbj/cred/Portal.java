package io.pbj.cred;

import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.internal.LoginHooks;
import io.pbj.internal.SetOnce;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

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
 *   <li>After {@link Builder#maxFailedLogins} failed attempts (default 5; a challenge left
 *       unanswered counts) the connection is closed shortly after the last failure is answered,
 *       and further attempts on it fail.
 *   <li>One login at a time: while a connection is logged in (or a login is completing), another
 *       login on it fails with {@code UNAUTHORIZED} "already logged in". After logout (the avatar
 *       released) the connection may log in again. This keeps the connection's perspective,
 *       which views receive, unambiguous.
 *   <li>Logout (the {@link Avatar}'s callback) runs exactly once: when the client releases its
 *       last reference to the avatar, or when the connection closes.
 * </ul>
 *
 * <p>Across all its connections, the portal throttles password guessing by account name and by
 * address (an IPv4 address, or an IPv6 /64): past 3 failures a failure's answer is delayed
 * (doubling from {@link Builder#failureDelay}'s base to its maximum), and past the {@link
 * Builder#accountThrottle} or {@link Builder#addressThrottle} limit logins are refused with {@link PbException.Code#UNAUTHORIZED} "too many failed logins; try
 * again later" until the count has drained. Unknown and known accounts are counted, delayed and
 * refused alike. Failed logins are logged, rate-limited, at WARN on the logger {@code
 * io.pbj.cred.audit}. The defaults suit a server facing the internet; docs/LOGIN.md ("Limits")
 * explains each and the trade-offs.
 *
 * <p>Thread-safety: immutable and thread-safe; one portal serves any number of connections.
 */
public final class Portal {
  /** Failed login attempts per connection before it is closed. */
  static final int DEFAULT_MAX_FAILED_LOGINS = 5;
  static final LoginThrottle.Limit DEFAULT_ACCOUNT_LIMIT =
      new LoginThrottle.Limit(10, Duration.ofMinutes(15));
  static final LoginThrottle.Limit DEFAULT_ADDRESS_LIMIT =
      new LoginThrottle.Limit(50, Duration.ofMinutes(15));
  static final Duration DEFAULT_DELAY_BASE = Duration.ofMillis(250);
  static final Duration DEFAULT_DELAY_MAX = Duration.ofSeconds(8);
  static final Duration MAX_DELAY_LIMIT = Duration.ofMinutes(1);
  static final int DEFAULT_THROTTLE_CAPACITY = 65_536;
  static final int MAX_THROTTLE_CAPACITY = 4_194_304;
  static final int MAX_FAILURES_LIMIT = 1_000_000;

  private final LoginRoot.Settings settings;

  private Portal(Builder b) {
    byte[] secret = b.secret == null ? Scram.randomBytes(32) : b.secret;
    LoginClock clock = b.clock == null ? LoginClock.SYSTEM : b.clock;
    LoginThrottle throttle =
        new LoginThrottle(
            b.accountLimit == null ? DEFAULT_ACCOUNT_LIMIT : b.accountLimit,
            b.addressLimit == null ? DEFAULT_ADDRESS_LIMIT : b.addressLimit,
            b.delayBase == null ? DEFAULT_DELAY_BASE : b.delayBase,
            b.delayMax == null ? DEFAULT_DELAY_MAX : b.delayMax,
            b.throttleCapacity == null ? DEFAULT_THROTTLE_CAPACITY : b.throttleCapacity,
            secret,
            clock);
    this.settings =
        new LoginRoot.Settings(
            b.realm,
            b.passwords,
            b.anonymous != null,
            b.maxFailedLogins == null ? DEFAULT_MAX_FAILED_LOGINS : b.maxFailedLogins,
            secret,
            throttle,
            new LoginAudit(clock, b.auditSink),
            clock);
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

  /** The throttle shared by this portal's connections, for tests. */
  LoginThrottle throttle() {
    return settings.throttle();
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
    private LoginThrottle.Limit accountLimit;
    private LoginThrottle.Limit addressLimit;
    private Duration delayBase;
    private Duration delayMax;
    private Integer throttleCapacity;
    private LoginClock clock;
    private Consumer<String> auditSink;

    private final SetOnce once = new SetOnce("Portal.Builder");

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

    /**
     * Failed login attempts a connection may make before it is closed. Default 5. A challenge
     * ({@code scramStart}) replaced before it was answered counts as a failed attempt, so a
     * connection gets at most this many challenges plus one.
     */
    public Builder maxFailedLogins(int attempts) {
      if (attempts < 1) {
        throw new IllegalArgumentException(
            "Portal.Builder.maxFailedLogins must be at least 1, got " + attempts);
      }
      once.mark("maxFailedLogins");
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
      if (secret.length < 16) {
        throw new IllegalArgumentException(
            "Portal.Builder.secret must be at least 16 bytes, got " + secret.length);
      }
      once.mark("secret");
      this.secret = secret.clone();
      return this;
    }

    /**
     * Failed password logins per account name, across all connections, before logins to it are
     * refused: {@code maxFailures} within {@code window}, counted as a bucket that drains one
     * failure every {@code window / maxFailures}, so a refused account takes one more attempt
     * each such period. Unknown names are counted exactly as known ones. A successful login
     * empties the account's count. Default 10 per 15 minutes.
     *
     * <p>An attacker can keep an account refused for as long as the attack lasts, its owner
     * included: that is the price of bounding the guesses an attack spread over many addresses
     * gets. Raise the limit to trade guesses for availability.
     */
    public Builder accountThrottle(int maxFailures, Duration window) {
      LoginThrottle.Limit limit = limit("accountThrottle", maxFailures, window);
      once.mark("accountThrottle");
      accountLimit = limit;
      return this;
    }

    /**
     * Failed password logins per address, across all connections and accounts, before logins
     * from it are refused: {@code maxFailures} within {@code window}, drained as in {@link
     * #accountThrottle}. An address is an IPv4 address or an IPv6 /64 prefix; connections
     * without an IP address (the in-process transport) are not counted. Each {@code scramStart}
     * counts as an attempt until it ends in a successful login, so challenges left unanswered
     * count too. A successful login does not empty the address's count. Default 50 per 15
     * minutes. Behind a proxy or a large NAT many users share one address: raise it there.
     */
    public Builder addressThrottle(int maxFailures, Duration window) {
      LoginThrottle.Limit limit = limit("addressThrottle", maxFailures, window);
      once.mark("addressThrottle");
      addressLimit = limit;
      return this;
    }

    private static LoginThrottle.Limit limit(String option, int maxFailures, Duration window) {
      Objects.requireNonNull(window, "window");
      if (maxFailures < 1 || maxFailures > MAX_FAILURES_LIMIT) {
        throw new IllegalArgumentException(
            "Portal.Builder." + option + ": maxFailures must be between 1 and "
                + MAX_FAILURES_LIMIT + ", got " + maxFailures);
      }
      if (window.compareTo(Duration.ofSeconds(1)) < 0 || window.compareTo(Duration.ofDays(1)) > 0) {
        throw new IllegalArgumentException(
            "Portal.Builder." + option + ": window must be between 1 s and 1 day, got " + window);
      }
      return new LoginThrottle.Limit(maxFailures, window);
    }

    /**
     * The delay before a failed password login is answered, once the account or the address has
     * more than 3 failures: {@code base}, doubling with each further failure, at most {@code max}
     * (at most one minute). No thread waits; meanwhile the connection's other login calls are
     * refused. {@code Duration.ZERO, Duration.ZERO} turns
     * delays off. Default 250 ms to 8 s.
     */
    public Builder failureDelay(Duration base, Duration max) {
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(max, "max");
      if (base.isNegative() || max.compareTo(MAX_DELAY_LIMIT) > 0 || base.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            "Portal.Builder.failureDelay: need 0 <= base <= max <= " + MAX_DELAY_LIMIT
                + ", got base " + base + ", max " + max);
      }
      once.mark("failureDelay");
      delayBase = base;
      delayMax = max;
      return this;
    }

    /**
     * Accounts, and addresses, the throttle can hold counts for at once: two tables of this many
     * slots (rounded down to a multiple of 8), 16 bytes a slot, allocated when the portal is
     * built. When a table is full a new key replaces, among the 8 slots its hash may use, the one
     * holding the fewest failures; so a flood of new names cannot cheaply reset the count of an
     * account under attack (docs/LOGIN.md, "Limits"). Default 65,536 (1 MiB per table).
     */
    public Builder throttleCapacity(int slots) {
      if (slots < 16 || slots > MAX_THROTTLE_CAPACITY) {
        throw new IllegalArgumentException(
            "Portal.Builder.throttleCapacity must be between 16 and " + MAX_THROTTLE_CAPACITY
                + ", got " + slots);
      }
      once.mark("throttleCapacity");
      throttleCapacity = slots;
      return this;
    }

    /** The throttle's time and the delays' scheduler; for tests. */
    Builder clock(LoginClock clock) {
      Objects.requireNonNull(clock, "clock");
      once.mark("clock");
      this.clock = clock;
      return this;
    }

    /** Where audit lines go instead of the {@code io.pbj.cred.audit} logger; for tests. */
    Builder auditSink(Consumer<String> sink) {
      Objects.requireNonNull(sink, "sink");
      once.mark("auditSink");
      auditSink = sink;
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
