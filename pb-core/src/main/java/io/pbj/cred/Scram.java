package io.pbj.cred;

import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * SCRAM-SHA-256 (RFC 5802 with the hash of RFC 7677) on the JDK's PBKDF2, HMAC and SHA-256, using
 * the RFC's own message syntax so the exchange can be checked against the RFC test vector.
 *
 * <p>Simplifications, all safe between two PBJ peers: no channel binding (the GS2 header is always
 * {@code "n,,"}), no authorization identity, no SASLprep (user names and passwords are used as
 * their UTF-8 bytes, exactly as given).
 *
 * <p>Thread-safety: the static functions are thread-safe; {@link Client} and {@link
 * ServerExchange} are single-use and not thread-safe.
 */
final class Scram {
  /** RFC 7677 asks for at least 4096 iterations. */
  public static final int MIN_ITERATIONS = 4096;
  /** Refused above this, so a hostile server cannot make a client burn minutes of CPU. */
  public static final int MAX_ITERATIONS = 10_000_000;
  public static final int SALT_BYTES = 16;
  static final int NONCE_BYTES = 24;
  static final int MAX_NONCE_LENGTH = 256;
  static final int MAX_USERNAME_LENGTH = 256;
  static final int MAX_MESSAGE_LENGTH = 4096;
  static final String GS2_HEADER = "n,,";
  static final String CHANNEL_BINDING =
      Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.US_ASCII));

  private static final SecureRandom RANDOM = new SecureRandom();

  private Scram() {}

  // ---- primitives ----

  /** Hi(password, salt, i) of RFC 5802: PBKDF2 with HMAC-SHA-256, 32 bytes. */
  public static byte[] saltedPassword(String password, byte[] salt, int iterations) {
    char[] chars = password.toCharArray();
    PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, 256);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks PBKDF2WithHmacSHA256", e);
    } finally {
      spec.clearPassword();
      Arrays.fill(chars, '\0');
    }
  }

  public static byte[] hmac(byte[] key, byte[] data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks HmacSHA256", e);
    }
  }

  static byte[] hmac(byte[] key, String data) {
    return hmac(key, data.getBytes(StandardCharsets.UTF_8));
  }

  public static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  static byte[] xor(byte[] a, byte[] b) {
    byte[] r = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      r[i] = (byte) (a[i] ^ b[i]);
    }
    return r;
  }

  public static byte[] clientKey(byte[] saltedPassword) {
    return hmac(saltedPassword, "Client Key");
  }

  public static byte[] serverKey(byte[] saltedPassword) {
    return hmac(saltedPassword, "Server Key");
  }

  public static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    RANDOM.nextBytes(b);
    return b;
  }

  /** A fresh nonce: printable, without commas. */
  public static String nonce() {
    return Base64.getEncoder().withoutPadding().encodeToString(randomBytes(NONCE_BYTES));
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  static byte[] unb64(String s, String what) {
    try {
      return Base64.getDecoder().decode(s);
    } catch (IllegalArgumentException e) {
      throw malformed(what + " is not base64");
    }
  }

  /**
   * Checks a user name the same way on both sides: not null, not blank, at most {@value
   * #MAX_USERNAME_LENGTH} characters, no control characters.
   */
  public static String checkUsername(String username) {
    Objects.requireNonNull(username, "username");
    if (username.isBlank()) {
      throw new IllegalArgumentException("username must not be blank");
    }
    if (username.length() > MAX_USERNAME_LENGTH) {
      throw new IllegalArgumentException(
          "username is " + username.length() + " characters long; the limit is "
              + MAX_USERNAME_LENGTH);
    }
    for (int i = 0; i < username.length(); i++) {
      if (Character.isISOControl(username.charAt(i))) {
        throw new IllegalArgumentException(
            "username must not contain control characters (found U+"
                + String.format("%04X", (int) username.charAt(i)) + " at index " + i + ")");
      }
    }
    return username;
  }

  public static int checkIterations(int iterations) {
    if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
      throw new IllegalArgumentException(
          "iterations must be between " + MIN_ITERATIONS + " and " + MAX_ITERATIONS + ", got "
              + iterations);
    }
    return iterations;
  }

  static String escape(String username) {
    return username.replace("=", "=3D").replace(",", "=2C");
  }

  static String unescape(String saslname) {
    StringBuilder b = new StringBuilder(saslname.length());
    for (int i = 0; i < saslname.length(); i++) {
      char c = saslname.charAt(i);
      if (c == '=') {
        if (saslname.startsWith("=3D", i)) {
          b.append('=');
        } else if (saslname.startsWith("=2C", i)) {
          b.append(',');
        } else {
          throw malformed("the user name has a bad '=' escape");
        }
        i += 2;
      } else if (c == ',') {
        throw malformed("the user name has an unescaped ','");
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  static void checkNonce(String nonce, String what) {
    if (nonce.isEmpty() || nonce.length() > MAX_NONCE_LENGTH) {
      throw malformed(what + " must be 1 to " + MAX_NONCE_LENGTH + " characters long");
    }
    for (int i = 0; i < nonce.length(); i++) {
      char c = nonce.charAt(i);
      if (c < 0x21 || c > 0x7e || c == ',') {
        throw malformed(what + " must be printable ASCII without ','");
      }
    }
  }

  static PbException malformed(String why) {
    return new PbException(Code.BAD_ARGUMENTS, "malformed SCRAM message: " + why);
  }

  /** The value of attribute {@code name} ("r=...") at {@code part}, or a malformed-message error. */
  static String attribute(String[] parts, int index, char name) {
    if (index >= parts.length || parts[index].length() < 2 || parts[index].charAt(0) != name
        || parts[index].charAt(1) != '=') {
      throw malformed("expected attribute '" + name + "=' at position " + index);
    }
    return parts[index].substring(2);
  }

  static String[] split(String message, String what) {
    if (message == null) {
      throw malformed(what + " is missing");
    }
    if (message.length() > MAX_MESSAGE_LENGTH) {
      throw malformed(what + " is longer than " + MAX_MESSAGE_LENGTH + " characters");
    }
    return message.split(",", -1);
  }

  // ---- the client ----

  /** The client side of one exchange. Thread-safety: not thread-safe; use once, from one thread at a time. */
  public static final class Client {
    private final String username;
    private final String password;
    private final String clientNonce;
    private String authMessage;
    private byte[] serverKey;
    private byte[] expectedServerSignature;

    public Client(String username, String password) {
      this(username, password, nonce());
    }

    /** With a chosen nonce: for the RFC test vector only. */
    public Client(String username, String password, String clientNonce) {
      this.username = checkUsername(username);
      this.password = Objects.requireNonNull(password, "password");
      checkNonce(clientNonce, "the client nonce");
      this.clientNonce = clientNonce;
    }

    private String bare() {
      return "n=" + escape(username) + ",r=" + clientNonce;
    }

    /** client-first-message: {@code n,,n=USER,r=CNONCE}. */
    public String clientFirst() {
      return GS2_HEADER + bare();
    }

    /**
     * client-final-message for the server's challenge: {@code c=biws,r=NONCE,p=PROOF}. Checks that
     * the server's nonce extends ours and that its iteration count is sane.
     */
    public String clientFinal(String serverFirst) {
      String[] parts = split(serverFirst, "the server-first message");
      if (parts.length != 3) {
        throw malformed("the server-first message must have 3 attributes");
      }
      String nonce = attribute(parts, 0, 'r');
      byte[] salt = unb64(attribute(parts, 1, 's'), "the salt");
      int iterations;
      try {
        iterations = Integer.parseInt(attribute(parts, 2, 'i'));
      } catch (NumberFormatException e) {
        throw malformed("the iteration count is not a number");
      }
      checkNonce(nonce, "the nonce");
      if (!nonce.startsWith(clientNonce) || nonce.length() == clientNonce.length()) {
        throw new PbException(
            Code.UNAUTHORIZED, "the server's nonce does not extend the client's nonce");
      }
      if (iterations < MIN_ITERATIONS || iterations > MAX_ITERATIONS) {
        throw new PbException(
            Code.UNAUTHORIZED,
            "the server asked for " + iterations + " iterations; accepted: " + MIN_ITERATIONS
                + " to " + MAX_ITERATIONS);
      }
      if (salt.length == 0) {
        throw malformed("the salt is empty");
      }
      String withoutProof = "c=" + CHANNEL_BINDING + ",r=" + nonce;
      authMessage = bare() + "," + serverFirst + "," + withoutProof;
      byte[] salted = saltedPassword(password, salt, iterations);
      byte[] clientKey = clientKey(salted);
      byte[] clientSignature = hmac(sha256(clientKey), authMessage);
      serverKey = serverKey(salted);
      expectedServerSignature = hmac(serverKey, authMessage);
      Arrays.fill(salted, (byte) 0);
      return withoutProof + ",p=" + b64(xor(clientKey, clientSignature));
    }

    /** True when the server-final message proves the server holds this user's verifier. */
    public boolean verifyServerFinal(String serverFinal) {
      if (expectedServerSignature == null) {
        throw new IllegalStateException("clientFinal was not called");
      }
      if (serverFinal == null || !serverFinal.startsWith("v=")) {
        return false;
      }
      byte[] signature;
      try {
        signature = Base64.getDecoder().decode(serverFinal.substring(2));
      } catch (IllegalArgumentException e) {
        return false;
      }
      return MessageDigest.isEqual(signature, expectedServerSignature);
    }
  }

  // ---- the server ----

  /** The parsed client-first message. Thread-safety: immutable. */
  public record ClientFirst(String username, String clientNonce, String bare) {
    /** Parses {@code n,,n=USER,r=CNONCE}; malformed input fails with BAD_ARGUMENTS. */
    public static ClientFirst parse(String message) {
      String[] parts = split(message, "the client-first message");
      if (parts.length != 4 || !parts[0].equals("n") || !parts[1].isEmpty()) {
        throw malformed(
            "the client-first message must be 'n,,n=USER,r=NONCE' (no channel binding, no"
                + " authorization identity)");
      }
      String username = unescape(attribute(parts, 2, 'n'));
      try {
        checkUsername(username);
      } catch (IllegalArgumentException e) {
        throw new PbException(Code.BAD_ARGUMENTS, e.getMessage());
      }
      String nonce = attribute(parts, 3, 'r');
      checkNonce(nonce, "the client nonce");
      return new ClientFirst(username, nonce, parts[2] + "," + parts[3]);
    }
  }

  /**
   * What the server knows of a user: the salted verifier (never the password). Thread-safety:
   * treat as immutable (the arrays are never modified).
   */
  public record Verifier(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey) {}

  /**
   * The server side of one exchange. Thread-safety: immutable; single use is enforced by the
   * caller ({@link LoginRoot} forgets it before verifying).
   */
  public static final class ServerExchange {
    private final ClientFirst first;
    private final Verifier verifier;
    private final String nonce;
    private final String serverFirst;

    public ServerExchange(ClientFirst first, Verifier verifier, String serverNonce) {
      this.first = first;
      this.verifier = verifier;
      checkNonce(serverNonce, "the server nonce");
      this.nonce = first.clientNonce() + serverNonce;
      this.serverFirst =
          "r=" + nonce + ",s=" + b64(verifier.salt()) + ",i=" + verifier.iterations();
    }

    public String username() {
      return first.username();
    }

    /** server-first-message: {@code r=NONCE,s=SALT,i=ITERATIONS}. */
    public String serverFirst() {
      return serverFirst;
    }

    /**
     * Checks the client's proof; returns the server-final message {@code v=SIGNATURE}, or null
     * when the proof is wrong (or answers another exchange). Malformed input fails with
     * BAD_ARGUMENTS.
     */
    public String verify(String clientFinal) {
      String[] parts = split(clientFinal, "the client-final message");
      if (parts.length != 3) {
        throw malformed("the client-final message must be 'c=biws,r=NONCE,p=PROOF'");
      }
      String binding = attribute(parts, 0, 'c');
      String echoedNonce = attribute(parts, 1, 'r');
      byte[] proof = unb64(attribute(parts, 2, 'p'), "the proof");
      if (!binding.equals(CHANNEL_BINDING)) {
        throw malformed("channel binding is not supported (expected c=" + CHANNEL_BINDING + ")");
      }
      String withoutProof = parts[0] + "," + parts[1];
      String authMessage = first.bare() + "," + serverFirst + "," + withoutProof;
      byte[] clientSignature = hmac(verifier.storedKey(), authMessage);
      boolean ok = proof.length == clientSignature.length;
      byte[] clientKey = xor(ok ? proof : new byte[clientSignature.length], clientSignature);
      ok &= MessageDigest.isEqual(sha256(clientKey), verifier.storedKey());
      ok &= MessageDigest.isEqual(
          echoedNonce.getBytes(StandardCharsets.UTF_8), nonce.getBytes(StandardCharsets.UTF_8));
      if (!ok) {
        return null;
      }
      return "v=" + b64(hmac(verifier.serverKey(), authMessage));
    }
  }
}
