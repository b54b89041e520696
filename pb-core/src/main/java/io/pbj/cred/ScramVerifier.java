package io.pbj.cred;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * What a server stores for one password user: a random salt, the PBKDF2 iteration count, and the
 * SCRAM-SHA-256 {@code StoredKey} and {@code ServerKey}. The password itself cannot be recovered
 * from it, and it is not enough to log in: logging in needs {@code ClientKey}, of which only a
 * hash is stored. It <em>is</em> enough to pose as the server to a client, so keep it private.
 *
 * <p>{@link #encoded()} gives the RFC 5803 text form, {@code SCRAM-SHA-256$<iterations>:<salt>$
 * <StoredKey>:<ServerKey>} (base64), suitable for a password file or database column; {@link
 * #parse(String)} reads it back.
 *
 * <pre>{@code
 * ScramVerifier v = ScramVerifier.derive("hunter2");      // random salt, 4096 iterations
 * database.save("bob", v.encoded());
 * ...
 * PasswordChecker checker = PasswordChecker.builder()
 *     .lookup(user -> database.find(user).map(ScramVerifier::parse))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class ScramVerifier {
  /** The iteration count used when none is given: the RFC 7677 minimum. */
  public static final int DEFAULT_ITERATIONS = Scram.MIN_ITERATIONS;

  private static final String PREFIX = "SCRAM-SHA-256$";

  private final byte[] salt;
  private final int iterations;
  private final byte[] storedKey;
  private final byte[] serverKey;

  private ScramVerifier(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {
    this.salt = salt;
    this.iterations = iterations;
    this.storedKey = storedKey;
    this.serverKey = serverKey;
  }

  /** Derives a verifier with a fresh random salt and {@value #DEFAULT_ITERATIONS} iterations. */
  public static ScramVerifier derive(String password) {
    return derive(password, DEFAULT_ITERATIONS);
  }

  /** Derives a verifier with a fresh random salt; {@code iterations} from 4096 to 10,000,000. */
  public static ScramVerifier derive(String password, int iterations) {
    return derive(password, Scram.randomBytes(Scram.SALT_BYTES), iterations);
  }

  /** Derives a verifier with the given salt (for tests and migrations; prefer a random salt). */
  public static ScramVerifier derive(String password, byte[] salt, int iterations) {
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(salt, "salt");
    if (password.isEmpty()) {
      throw new IllegalArgumentException("password must not be empty");
    }
    if (salt.length == 0) {
      throw new IllegalArgumentException("salt must not be empty");
    }
    Scram.checkIterations(iterations);
    byte[] salted = Scram.saltedPassword(password, salt, iterations);
    try {
      return new ScramVerifier(
          salt.clone(),
          iterations,
          Scram.sha256(Scram.clientKey(salted)),
          Scram.serverKey(salted));
    } finally {
      Arrays.fill(salted, (byte) 0);
    }
  }

  /**
   * Reads the form {@link #encoded()} writes; anything else fails with an {@link
   * IllegalArgumentException} saying what is wrong.
   */
  public static ScramVerifier parse(String encoded) {
    Objects.requireNonNull(encoded, "encoded");
    String expected = "expected " + PREFIX + "<iterations>:<salt>$<StoredKey>:<ServerKey>";
    if (!encoded.startsWith(PREFIX)) {
      throw new IllegalArgumentException("not a SCRAM-SHA-256 verifier: " + expected);
    }
    String[] halves = encoded.substring(PREFIX.length()).split("\\$", -1);
    if (halves.length != 2) {
      throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: " + expected);
    }
    String[] first = halves[0].split(":", -1);
    String[] second = halves[1].split(":", -1);
    if (first.length != 2 || second.length != 2) {
      throw new IllegalArgumentException("malformed SCRAM-SHA-256 verifier: " + expected);
    }
    int iterations;
    byte[] salt;
    byte[] storedKey;
    byte[] serverKey;
    try {
      iterations = Integer.parseInt(first[0]);
      Base64.Decoder d = Base64.getDecoder();
      salt = d.decode(first[1]);
      storedKey = d.decode(second[0]);
      serverKey = d.decode(second[1]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "malformed SCRAM-SHA-256 verifier (" + e.getMessage() + "): " + expected, e);
    }
    Scram.checkIterations(iterations);
    if (salt.length == 0 || storedKey.length != 32 || serverKey.length != 32) {
      throw new IllegalArgumentException(
          "malformed SCRAM-SHA-256 verifier: the salt must not be empty and both keys must be 32"
              + " bytes");
    }
    return new ScramVerifier(salt, iterations, storedKey, serverKey);
  }

  /** The RFC 5803 text form. */
  public String encoded() {
    Base64.Encoder e = Base64.getEncoder();
    return PREFIX + iterations + ":" + e.encodeToString(salt) + "$" + e.encodeToString(storedKey)
        + ":" + e.encodeToString(serverKey);
  }

  /** The salt (a copy). */
  public byte[] salt() {
    return salt.clone();
  }

  /** The PBKDF2 iteration count. */
  public int iterations() {
    return iterations;
  }

  /** {@code H(ClientKey)} (a copy). */
  public byte[] storedKey() {
    return storedKey.clone();
  }

  /** {@code HMAC(SaltedPassword, "Server Key")} (a copy). */
  public byte[] serverKey() {
    return serverKey.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ScramVerifier v
        && iterations == v.iterations
        && Arrays.equals(salt, v.salt)
        && MessageDigest.isEqual(storedKey, v.storedKey)
        && MessageDigest.isEqual(serverKey, v.serverKey);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(salt) * 31 + iterations;
  }

  /** Shows the iteration count and salt only; the keys are secret. */
  @Override
  public String toString() {
    return "ScramVerifier[iterations=" + iterations + ", salt="
        + Base64.getEncoder().encodeToString(salt) + "]";
  }
}
