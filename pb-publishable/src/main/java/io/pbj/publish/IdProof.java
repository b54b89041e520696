package io.pbj.publish;

import io.pbj.PbConnection;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The server-id proof of the attach handshake: the bytes that are signed, signing, and the
 * client's check (docs/PROTOCOL.md, "Server ids"). Everything here treats what came from the wire
 * as untrusted: lengths are checked before any key is decoded, chains are bounded.
 *
 * <p>Thread-safety: stateless.
 */
final class IdProof {
  /** Domain separation of the attach statement: these bytes are never signed for anything else. */
  static final String ATTACH_LABEL = "pbj-publish-attach-v1";

  /** Domain separation of the delegation statement. */
  static final String DELEGATION_LABEL = "pbj-publish-delegation-v1";

  /** Bytes of the client's fresh nonce. */
  static final int NONCE_BYTES = 32;

  /** Bytes of a TLS binding (a SHA-256); an absent binding is zero bytes. */
  static final int BINDING_BYTES = 32;

  /** Bytes of an Ed25519 signature. */
  static final int SIGNATURE_BYTES = 64;

  /** Most delegations in a chain: an origin, then at most this many relays, one behind another. */
  static final int MAX_CHAIN = Relay.MAX_DEPTH;

  private static final SecureRandom RANDOM = new SecureRandom();

  private IdProof() {}

  static byte[] newNonce() {
    byte[] nonce = new byte[NONCE_BYTES];
    RANDOM.nextBytes(nonce);
    return nonce;
  }

  /**
   * The attach statement: the label, then each of server id, service, perspective key (UTF-8),
   * nonce and TLS binding as a 4-byte big-endian length and the bytes.
   */
  static byte[] attachStatement(
      String serverId, String service, String perspectiveKey, byte[] nonce, byte[] binding) {
    Statement s = new Statement(ATTACH_LABEL);
    s.field(serverId).field(service).field(perspectiveKey).field(nonce).field(binding);
    return s.bytes();
  }

  /**
   * The delegation statement: the label, then server id, service, perspective key (UTF-8) and the
   * subject's X.509 public key, each length-prefixed, then the expiry as 8 big-endian bytes.
   */
  static byte[] delegationStatement(
      String serverId, String service, String perspectiveKey, byte[] subjectKey, long expiresAt) {
    Statement s = new Statement(DELEGATION_LABEL);
    s.field(serverId).field(service).field(perspectiveKey).field(subjectKey).field(expiresAt);
    return s.bytes();
  }

  static byte[] sign(PrivateKey key, byte[] statement) {
    try {
      Signature s = Signature.getInstance(ServerKey.ALGORITHM);
      s.initSign(key);
      s.update(statement);
      return s.sign();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the server key: " + e, e);
    }
  }

  static boolean verifies(PublicKey key, byte[] statement, byte[] signature) {
    if (signature == null || signature.length != SIGNATURE_BYTES) {
      return false;
    }
    try {
      Signature s = Signature.getInstance(ServerKey.ALGORITHM);
      s.initVerify(key);
      s.update(statement);
      return s.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  /**
   * Decodes an X.509 Ed25519 public key.
   *
   * @throws IllegalArgumentException saying what it is not
   */
  static PublicKey decodePublicKey(byte[] x509) {
    if (x509 == null || x509.length != ServerKey.PUBLIC_KEY_BYTES) {
      throw new IllegalArgumentException("is not an Ed25519 public key (X.509, "
          + ServerKey.PUBLIC_KEY_BYTES + " bytes): "
          + (x509 == null ? "none" : x509.length + " bytes"));
    }
    try {
      PublicKey key = KeyFactory.getInstance(ServerKey.ALGORITHM)
          .generatePublic(new X509EncodedKeySpec(x509));
      return key;
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("is not an Ed25519 public key: " + e.getMessage());
    }
  }

  /** The TLS binding of {@code connection}: its server certificate's SHA-256, or empty. */
  static byte[] bindingOf(PbConnection connection) {
    String hex = connection.tlsServerCertificateSha256();
    return hex == null ? new byte[0] : HexFormat.of().parseHex(hex);
  }

  /** What signs attach answers for a server: the origin's key, or a relay's with its chain. */
  record Prover(byte[] originKey, PrivateKey signer, List<Delegation> chain, long expiresAt) {
    static Prover origin(ServerKey key) {
      return new Prover(key.encodedPublicKey(), key.privateKey(), List.of(), Long.MAX_VALUE);
    }

    ServerProof prove(
        String serverId, String service, String perspectiveKey, byte[] nonce, byte[] binding) {
      byte[] signature =
          sign(signer, attachStatement(serverId, service, perspectiveKey, nonce, binding));
      return new ServerProof(originKey, new ArrayList<>(chain), binding, signature);
    }

    /** The delegation this prover issues to {@code subjectKey}, or null if the chain is full. */
    Delegation delegate(
        String serverId, String service, String perspectiveKey, byte[] subjectKey,
        long expiresAt) {
      if (chain.size() >= MAX_CHAIN) {
        return null;
      }
      long until = Math.min(expiresAt, this.expiresAt);
      return new Delegation(subjectKey, until, sign(signer,
          delegationStatement(serverId, service, perspectiveKey, subjectKey, until)));
    }
  }

  /**
   * Why {@code reply}'s proof does not prove its server id to a client that sent {@code nonce} and
   * sees {@code binding} on its connection at {@code nowMillis}; null when it does.
   */
  static String problem(AttachReply reply, byte[] nonce, byte[] binding, long nowMillis) {
    ServerProof proof = reply.proof();
    PublicKey origin;
    try {
      origin = decodePublicKey(proof.originKey());
    } catch (IllegalArgumentException e) {
      return "the public key in its proof " + e.getMessage();
    }
    String derived = ServerKey.serverIdOf(proof.originKey());
    if (!derived.equals(reply.serverId())) {
      return "the public key in its proof is that of server id " + derived + ", not "
          + reply.serverId();
    }
    // Typed by erasure only: the wire may hold anything registered in the list.
    List<?> chain = proof.chain() == null ? List.of() : proof.chain();
    if (chain.size() > MAX_CHAIN) {
      return "its proof has a delegation chain of " + chain.size() + ", more than " + MAX_CHAIN;
    }
    PublicKey signer = origin;
    String signerName = "the origin";
    for (int i = 0; i < chain.size(); i++) {
      if (!(chain.get(i) instanceof Delegation d)) {
        return "delegation " + (i + 1) + " of its proof is "
            + (chain.get(i) == null ? "missing" : "a " + chain.get(i).getClass().getName());
      }
      PublicKey subject;
      try {
        subject = decodePublicKey(d.subjectKey());
      } catch (IllegalArgumentException e) {
        return "the relay key of delegation " + (i + 1) + " " + e.getMessage();
      }
      String relay = "relay " + ServerKey.serverIdOf(d.subjectKey());
      byte[] statement = delegationStatement(
          reply.serverId(), reply.service(), reply.perspectiveKey(), d.subjectKey(), d.expiresAt());
      if (!verifies(signer, statement, d.signature())) {
        return "delegation " + (i + 1) + " (to " + relay + ") is not signed by " + signerName
            + " for service " + reply.service() + " and perspective " + reply.perspectiveKey();
      }
      if (d.expiresAt() <= nowMillis) {
        return "delegation " + (i + 1) + " (to " + relay + ") expired at "
            + Instant.ofEpochMilli(d.expiresAt()) + "; the relay renews it when it attaches"
            + " upstream again";
      }
      signer = subject;
      signerName = relay;
    }
    byte[] signed = proof.tlsBinding();
    if (signed == null || (signed.length != 0 && signed.length != BINDING_BYTES)) {
      return "its proof has a TLS binding of "
          + (signed == null ? "none" : signed.length + " bytes") + " (0 or 32 expected)";
    }
    if (!java.security.MessageDigest.isEqual(signed, binding)) {
      return "TLS binding mismatch: the proof was signed for "
          + (signed.length == 0 ? "a connection without TLS" : "TLS certificate " + hex(signed))
          + ", but this connection " + (binding.length == 0 ? "does not use TLS"
              : "presents TLS certificate " + hex(binding))
          + " (a man in the middle relaying another connection's proof?)";
    }
    byte[] statement = attachStatement(
        reply.serverId(), reply.service(), reply.perspectiveKey(), nonce, binding);
    if (!verifies(signer, statement, proof.signature())) {
      return "the signature by " + signerName + " does not verify over this attach's nonce,"
          + " service and perspective (a replayed or forged proof)";
    }
    return null;
  }

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  /** Builds a statement: a label, then length-prefixed fields. */
  private static final class Statement {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    Statement(String label) {
      byte[] l = label.getBytes(StandardCharsets.US_ASCII);
      out.writeBytes(l);
      out.write(0);
    }

    Statement field(String s) {
      return field(s.getBytes(StandardCharsets.UTF_8));
    }

    Statement field(byte[] b) {
      int n = b.length;
      out.write(n >>> 24);
      out.write(n >>> 16);
      out.write(n >>> 8);
      out.write(n);
      out.writeBytes(b);
      return this;
    }

    Statement field(long v) {
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.write((int) (v >>> shift));
      }
      return this;
    }

    byte[] bytes() {
      return out.toByteArray();
    }
  }
}
