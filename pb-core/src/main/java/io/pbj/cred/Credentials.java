package io.pbj.cred;

import java.util.Objects;
import java.util.Optional;

/**
 * What a client logs in with, through {@link Login#login}: a user name and password, or
 * anonymous. The password stays on the client: password login is SCRAM-SHA-256, so only a
 * nonce-bound proof crosses the wire.
 *
 * <pre>{@code
 * RemoteReference avatar =
 *     Login.login(client.rootObject().join(), Credentials.password("alice", "secret"), mind).join();
 * RemoteReference guest = Login.login(root, Credentials.anonymous(), null).join();
 * }</pre>
 *
 * <p>Thread-safety: immutable. {@link #toString()} never shows the password.
 */
public final class Credentials {
  private static final Credentials ANONYMOUS = new Credentials(null, null);

  private final String username;
  private final String password;

  private Credentials(String username, String password) {
    this.username = username;
    this.password = password;
  }

  /**
   * A user name and password. The user name must not be null or blank, at most 256 characters,
   * without control characters; the password must not be null or empty. Both are used as their
   * UTF-8 bytes, exactly as given (no Unicode normalisation).
   */
  public static Credentials password(String username, String password) {
    Scram.checkUsername(username);
    Objects.requireNonNull(password, "password");
    if (password.isEmpty()) {
      throw new IllegalArgumentException("password must not be empty");
    }
    return new Credentials(username, password);
  }

  /** Anonymous access; the portal must have an {@link AnonymousChecker}. */
  public static Credentials anonymous() {
    return ANONYMOUS;
  }

  /** True for {@link #anonymous()}. */
  public boolean isAnonymous() {
    return username == null;
  }

  /** The user name; empty for anonymous credentials. */
  public Optional<String> username() {
    return Optional.ofNullable(username);
  }

  String secret() {
    return password;
  }

  /**
   * Equal when both are anonymous, or have the same user name and the same password (compared in
   * time independent of where they differ).
   */
  @Override
  public boolean equals(Object o) {
    return o instanceof Credentials c
        && Objects.equals(username, c.username)
        && (password == null
            ? c.password == null
            : c.password != null
                && java.security.MessageDigest.isEqual(
                    password.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    c.password.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  /** The user name's hash: the password plays no part. */
  @Override
  public int hashCode() {
    return Objects.hashCode(username);
  }

  @Override
  public String toString() {
    return isAnonymous() ? "Credentials[anonymous]" : "Credentials[" + username + ", password=***]";
  }
}
