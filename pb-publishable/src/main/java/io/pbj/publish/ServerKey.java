package io.pbj.publish;

import com.google.common.io.BaseEncoding;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * A publishing server's key pair (Ed25519), from which its server id is derived: the id is
 * {@value #ID_PREFIX} followed by the SHA-256 of the public key (its X.509 encoding) in lower-case
 * base32 without padding, 57 characters that are valid in a {@code pb://} reference and a store
 * key. The id is <em>self-certifying</em>: a server proves it holds the key in every attach answer
 * (a signature over the client's fresh nonce), so no other server can claim it. Keep the key to
 * keep the id: a new key is a new server to every client (their caches under the old id are not
 * used).
 *
 * <pre>{@code
 * ServerKey key = ServerKey.readOrCreate(dataDir.resolve("server-key.pem"));  // kept
 * PublishingService world = PublishingService.builder().serverKey(key).service("world").build();
 * System.out.println("server id " + world.serverId());       // what clients expect
 * }</pre>
 *
 * <p>The file is a small PEM text file: optional {@code #} comment lines, then a {@code PRIVATE
 * KEY} block (PKCS#8) and a {@code PUBLIC KEY} block (X.509 SubjectPublicKeyInfo), both Ed25519.
 * It is written readable by its owner only (where the file system has POSIX permissions); a file
 * that is not such a pair is refused with a message naming the file and the problem.
 *
 * <p>Thread-safety: immutable. {@link #toString()} shows the id, never the private key.
 */
public final class ServerKey {
  /** What every self-certifying server id starts with (the scheme's version). */
  public static final String ID_PREFIX = "pbj1-";

  /** Length of a self-certifying id: the prefix and 52 base32 characters of a SHA-256. */
  public static final int ID_LENGTH = ID_PREFIX.length() + 52;

  /** Largest key file read, in bytes: the file is untrusted input. */
  public static final int MAX_FILE_BYTES = 16 * 1024;

  static final String ALGORITHM = "Ed25519";

  /** The X.509 encoding of every Ed25519 public key: a fixed 12-byte header and the 32-byte key. */
  static final int PUBLIC_KEY_BYTES = 44;

  private static final BaseEncoding BASE32 = BaseEncoding.base32().lowerCase().omitPadding();
  private static final String PRIVATE_BEGIN = "-----BEGIN PRIVATE KEY-----";
  private static final String PRIVATE_END = "-----END PRIVATE KEY-----";
  private static final String PUBLIC_BEGIN = "-----BEGIN PUBLIC KEY-----";
  private static final String PUBLIC_END = "-----END PUBLIC KEY-----";

  private final PrivateKey privateKey;
  private final PublicKey publicKey;
  private final byte[] encodedPublicKey;
  private final String serverId;

  private ServerKey(PrivateKey privateKey, PublicKey publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.encodedPublicKey = publicKey.getEncoded();
    this.serverId = serverIdOf(encodedPublicKey);
  }

  /** A new random key pair. */
  public static ServerKey generate() {
    KeyPair pair = newKeyPair();
    return new ServerKey(pair.getPrivate(), pair.getPublic());
  }

  /**
   * The key pair {@code privateKey} and {@code publicKey}.
   *
   * @throws IllegalArgumentException if they are not Ed25519 keys of one pair
   */
  public static ServerKey of(PrivateKey privateKey, PublicKey publicKey) {
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(publicKey, "publicKey");
    String problem = pairProblem(privateKey, publicKey);
    if (problem != null) {
      throw new IllegalArgumentException("ServerKey.of: " + problem);
    }
    return new ServerKey(privateKey, publicKey);
  }

  /**
   * Reads a key file written by {@link #write}.
   *
   * @throws IllegalArgumentException if the file is not a key file, naming it and the problem
   * @throws UncheckedIOException if it cannot be read (a missing file included)
   */
  public static ServerKey read(Path file) {
    Objects.requireNonNull(file, "file");
    byte[] bytes;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      if (ch.size() > MAX_FILE_BYTES) {
        throw bad(file, "is " + ch.size() + " bytes, more than a key file's " + MAX_FILE_BYTES);
      }
      ByteBuffer buf = ByteBuffer.allocate((int) ch.size());
      while (buf.hasRemaining() && ch.read(buf) >= 0) {
        // read it all
      }
      bytes = Arrays.copyOf(buf.array(), buf.position());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the server key file " + file + ": " + e, e);
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw bad(file, "is not text (a PEM file is expected)");
    }
    byte[] pkcs8 = block(file, text, PRIVATE_BEGIN, PRIVATE_END);
    byte[] x509 = block(file, text, PUBLIC_BEGIN, PUBLIC_END);
    PrivateKey priv;
    PublicKey pub;
    try {
      KeyFactory f = KeyFactory.getInstance(ALGORITHM);
      priv = f.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw bad(file,
          "its PRIVATE KEY block is not an Ed25519 PKCS#8 key (" + e.getMessage() + ")");
    }
    try {
      pub = IdProof.decodePublicKey(x509);
    } catch (IllegalArgumentException e) {
      throw bad(file, "its PUBLIC KEY block " + e.getMessage());
    }
    String problem = pairProblem(priv, pub);
    if (problem != null) {
      throw bad(file, problem);
    }
    return new ServerKey(priv, pub);
  }

  /**
   * Reads the key in {@code file}, or, when there is no such file, generates one and writes it
   * there: how a server keeps its id across restarts.
   *
   * @throws IllegalArgumentException if the file exists and is not a key file
   * @throws UncheckedIOException if it cannot be read or written
   */
  public static ServerKey readOrCreate(Path file) {
    Objects.requireNonNull(file, "file");
    if (Files.exists(file)) {
      return read(file);
    }
    ServerKey key = generate();
    try {
      key.write(file);
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof FileAlreadyExistsException) {
        return read(file);     // written meanwhile by another start: use that one
      }
      throw e;
    }
    return key;
  }

  /**
   * Writes this key pair to {@code file} (readable by its owner only where the file system has
   * POSIX permissions), whole or not at all.
   *
   * @throws UncheckedIOException if it cannot be written, or the file exists (a key file is
   *     never overwritten: that would change the server's id)
   */
  public void write(Path file) {
    Objects.requireNonNull(file, "file");
    String text = "# PBJ publishing server key (Ed25519). Whoever holds this file is server\n"
        + "# " + serverId + "\n# Keep it secret and keep it: a new key is a new server id.\n"
        + PRIVATE_BEGIN + "\n" + Base64.getMimeEncoder(64, new byte[] {'\n'})
            .encodeToString(privateKey.getEncoded()) + "\n" + PRIVATE_END + "\n"
        + PUBLIC_BEGIN + "\n" + Base64.getEncoder().encodeToString(encodedPublicKey) + "\n"
        + PUBLIC_END + "\n";
    Path tmp = null;
    try {
      if (Files.exists(file)) {
        throw new FileAlreadyExistsException(file.toString(), null,
            "a server key file is never overwritten (it would change the server id)");
      }
      FileAttribute<?>[] ownerOnly =
          file.getFileSystem().supportedFileAttributeViews().contains("posix")
              ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(
                  PosixFilePermissions.fromString("rw-------"))}
              : new FileAttribute<?>[0];
      Path dir = file.toAbsolutePath().getParent();
      // a name of its own: two starts writing at once must not delete each other's
      tmp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp", ownerOnly);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer buf = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(true);
      }
      // Published whole and never over another: a link fails if the file exists (a move would
      // replace it, and the server that wrote first would lose its id at the next start).
      try {
        Files.createLink(file, tmp);
      } catch (UnsupportedOperationException e) {
        Files.move(tmp, file); // no links here: a move that refuses an existing target
        tmp = null;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the server key file " + file + ": " + e, e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // the key is written (or the first failure reported); a stray temporary file is all
        }
      }
    }
  }

  /** The self-certifying server id of this key. */
  public String serverId() {
    return serverId;
  }

  /** The public key. */
  public PublicKey publicKey() {
    return publicKey;
  }

  /** The self-certifying server id of {@code publicKey}. */
  public static String serverIdOf(PublicKey publicKey) {
    Objects.requireNonNull(publicKey, "publicKey");
    if (!ALGORITHM.equalsIgnoreCase(publicKey.getAlgorithm())
        && !"EdDSA".equalsIgnoreCase(publicKey.getAlgorithm())) {
      throw new IllegalArgumentException(
          "a server key is Ed25519, not " + publicKey.getAlgorithm());
    }
    return serverIdOf(publicKey.getEncoded());
  }

  /**
   * Whether {@code id} has the form of a self-certifying id ({@value #ID_PREFIX} and 52 base32
   * characters). Such an id is never accepted as an unproven claim by a server's builder.
   */
  public static boolean isSelfCertifying(String id) {
    if (id == null || id.length() != ID_LENGTH || !id.startsWith(ID_PREFIX)) {
      return false;
    }
    for (int i = ID_PREFIX.length(); i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) {
        return false;
      }
    }
    return true;
  }

  static String serverIdOf(byte[] x509PublicKey) {
    try {
      return ID_PREFIX + BASE32.encode(MessageDigest.getInstance("SHA-256").digest(x509PublicKey));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no SHA-256", e);
    }
  }

  PrivateKey privateKey() {
    return privateKey;
  }

  byte[] encodedPublicKey() {
    return encodedPublicKey.clone();
  }

  /** Equal when the key pairs are. */
  @Override
  public boolean equals(Object o) {
    return o instanceof ServerKey k && Arrays.equals(encodedPublicKey, k.encodedPublicKey);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(encodedPublicKey);
  }

  @Override
  public String toString() {
    return "ServerKey[" + serverId + "]";
  }

  static KeyPair newKeyPair() {
    try {
      return KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JDK has no Ed25519 (Java 15 or later has)", e);
    }
  }

  /** Why the two keys are not one Ed25519 pair, or null. */
  private static String pairProblem(PrivateKey priv, PublicKey pub) {
    if (!isEd25519(priv.getAlgorithm()) || !isEd25519(pub.getAlgorithm())) {
      return "the keys must be Ed25519, not " + priv.getAlgorithm() + " / " + pub.getAlgorithm();
    }
    byte[] probe = new byte[32];
    new SecureRandom().nextBytes(probe);
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(priv);
      s.update(probe);
      byte[] sig = s.sign();
      s.initVerify(pub);
      s.update(probe);
      if (!s.verify(sig)) {
        return "the private key and the public key are not one pair";
      }
    } catch (GeneralSecurityException e) {
      return "the keys cannot sign and verify: " + e.getMessage();
    }
    return null;
  }

  private static boolean isEd25519(String algorithm) {
    return ALGORITHM.equalsIgnoreCase(algorithm) || "EdDSA".equalsIgnoreCase(algorithm);
  }

  /** The bytes of the one PEM block between {@code begin} and {@code end}. */
  private static byte[] block(Path file, String text, String begin, String end) {
    int from = text.indexOf(begin);
    if (from < 0) {
      throw bad(file, "has no " + begin.replace("-", "").strip() + " block");
    }
    if (text.indexOf(begin, from + begin.length()) >= 0) {
      throw bad(file, "has more than one " + begin.replace("-", "").strip() + " block");
    }
    int to = text.indexOf(end, from);
    if (to < 0) {
      throw bad(file, "has no " + end.replace("-", "").strip() + " line");
    }
    String body = text.substring(from + begin.length(), to).replaceAll("\\s", "");
    try {
      return Base64.getDecoder().decode(body);
    } catch (IllegalArgumentException e) {
      throw bad(file, "its " + begin.replace("-", "").replace("BEGIN ", "").strip()
          + " block is not base64 (" + e.getMessage() + ")");
    }
  }

  private static IllegalArgumentException bad(Path file, String problem) {
    return new IllegalArgumentException("server key file " + file + " " + problem
        + "; a key file holds an Ed25519 PRIVATE KEY (PKCS#8) and PUBLIC KEY (X.509) PEM block,"
        + " as ServerKey.write makes it");
  }
}
