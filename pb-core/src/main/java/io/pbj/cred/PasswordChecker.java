package io.pbj.cred;

import io.pbj.PbException;
import io.pbj.internal.SetOnce;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Accepts SCRAM-SHA-256 password logins for users it has a {@link ScramVerifier} for. It stores
 * only verifiers (salt, iteration count, {@code StoredKey}, {@code ServerKey}), never passwords:
 * {@link Builder#user(String, String)} derives the verifier at {@link Builder#build()} and keeps
 * nothing else.
 *
 * <p>A login for an unknown user is answered exactly as one for a known user (a salt derived
 * from a per-portal secret and the user name, the same iteration count), and fails with the same
 * {@link PbException.Code#UNAUTHORIZED} "unauthorized login" as a wrong password.
 *
 * <pre>{@code
 * PasswordChecker inMemory = PasswordChecker.builder()
 *     .user("alice", "secret")
 *     .user("bob", ScramVerifier.parse(storedText))
 *     .build();
 * PasswordChecker fromDatabase = PasswordChecker.builder()
 *     .lookup(user -> database.find(user).map(ScramVerifier::parse))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: immutable; a {@link Builder#lookup lookup} function is called from several
 * threads at once and must be thread-safe.
 */
public final class PasswordChecker implements CredentialChecker {
  private final Function<String, Optional<ScramVerifier>> lookup;
  private final int iterations;

  private PasswordChecker(Function<String, Optional<ScramVerifier>> lookup, int iterations) {
    this.lookup = lookup;
    this.iterations = iterations;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The verifier stored for {@code username}, if it is a known user. */
  public Optional<ScramVerifier> verifier(String username) {
    Optional<ScramVerifier> v = lookup.apply(username);
    return v == null ? Optional.empty() : v;
  }

  /**
   * The iteration count of verifiers derived by {@link Builder#user(String, String)}, which is
   * also the one announced for unknown users (so keep stored verifiers at this count).
   */
  public int iterations() {
    return iterations;
  }

  @Override
  public String toString() {
    return "PasswordChecker[iterations=" + iterations + "]";
  }

  /** Builds a {@link PasswordChecker}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private final Map<String, Object> users = new LinkedHashMap<>();
    private Function<String, Optional<ScramVerifier>> lookup;
    private Integer iterations;
    private final SetOnce once = new SetOnce("PasswordChecker.Builder");

    private Builder() {}

    /**
     * Adds a user with a password; its verifier is derived (random salt) at {@link #build()}, and
     * the password is not kept after that.
     */
    public Builder user(String username, String password) {
      Objects.requireNonNull(password, "password");
      if (password.isEmpty()) {
        throw new IllegalArgumentException("password for user '" + username + "' is empty");
      }
      return add(username, password);
    }

    /** Adds a user with a stored verifier. */
    public Builder user(String username, ScramVerifier verifier) {
      return add(username, Objects.requireNonNull(verifier, "verifier"));
    }

    private Builder add(String username, Object secret) {
      Scram.checkUsername(username);
      if (lookup != null) {
        throw new IllegalStateException(
            "PasswordChecker.Builder.user conflicts with an earlier lookup");
      }
      if (users.putIfAbsent(username, secret) != null) {
        throw new IllegalArgumentException("user '" + username + "' was already added");
      }
      return this;
    }

    /**
     * Finds verifiers with {@code lookup} (e.g. in a database) instead of a fixed list of users;
     * it returns empty for an unknown user.
     */
    public Builder lookup(Function<String, Optional<ScramVerifier>> lookup) {
      Objects.requireNonNull(lookup, "lookup");
      if (!users.isEmpty()) {
        throw new IllegalStateException(
            "PasswordChecker.Builder.lookup conflicts with users added earlier");
      }
      once.mark("lookup");
      this.lookup = lookup;
      return this;
    }

    /** PBKDF2 iterations, 4096 (the default) to 10,000,000. */
    public Builder iterations(int iterations) {
      int checked = Scram.checkIterations(iterations);
      once.mark("iterations");
      this.iterations = checked;
      return this;
    }

    public PasswordChecker build() {
      int n = iterations == null ? ScramVerifier.DEFAULT_ITERATIONS : iterations;
      if (lookup != null) {
        return new PasswordChecker(lookup, n);
      }
      Map<String, ScramVerifier> verifiers = new LinkedHashMap<>();
      users.forEach(
          (name, secret) ->
              verifiers.put(
                  name,
                  secret instanceof ScramVerifier v ? v : ScramVerifier.derive((String) secret, n)));
      users.clear();
      Map<String, ScramVerifier> table = Map.copyOf(verifiers);
      return new PasswordChecker(name -> Optional.ofNullable(table.get(name)), n);
    }
  }
}
