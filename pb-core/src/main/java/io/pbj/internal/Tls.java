package io.pbj.internal;

import io.netty.channel.Channel;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for one server or client: a Netty {@link SslContext} on the JDK provider, built once when
 * the builder's option is set (so a bad key store fails there, not at the first connection), and
 * a fresh {@link SslHandler} per channel.
 *
 * <p>Server: a private key and its certificate chain; {@link #fingerprint()} is the hex SHA-256 of
 * the leaf certificate. Client: either trusted certificates (with hostname verification against
 * the address dialled) or a pinned SHA-256 fingerprint of the server's leaf certificate (no CA, no
 * hostname check: the pin is the identity).
 *
 * <p>Thread-safety: immutable; {@link #newHandler} may be called from any thread.
 */
public final class Tls {
  private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  private final SslContext context;
  private final boolean server;
  private final boolean verifiesHostname;
  private final String fingerprint;

  private Tls(SslContext context, boolean server, boolean verifiesHostname, String fingerprint) {
    this.context = context;
    this.server = server;
    this.verifiesHostname = verifiesHostname;
    this.fingerprint = fingerprint;
  }

  // ---- server ----

  /** Server TLS from a key and its chain, leaf first. */
  public static Tls server(String option, PrivateKey key, X509Certificate... chain) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(chain, "chain");
    if (chain.length == 0) {
      throw new IllegalArgumentException(option + " needs at least the server's certificate");
    }
    for (X509Certificate c : chain) {
      Objects.requireNonNull(c, "certificate");
    }
    try {
      SslContext context =
          SslContextBuilder.forServer(key, chain)
              .sslProvider(SslProvider.JDK)
              .protocols(PROTOCOLS)
              .build();
      return new Tls(context, true, false, sha256(chain[0]));
    } catch (SSLException e) {
      throw new IllegalArgumentException(option + ": cannot use this key and certificate: " + e, e);
    }
  }

  /** Server TLS from the first key entry of a PKCS#12 file. */
  public static Tls serverFromPkcs12(String option, Path file, char[] password) {
    KeyStore store = load(option, file, password);
    try {
      for (String alias : Collections.list(store.aliases())) {
        if (store.isKeyEntry(alias)) {
          PrivateKey key = (PrivateKey) store.getKey(alias, password);
          Certificate[] chain = store.getCertificateChain(alias);
          if (key == null || chain == null || chain.length == 0) {
            continue;
          }
          X509Certificate[] x509 = new X509Certificate[chain.length];
          for (int i = 0; i < chain.length; i++) {
            x509[i] = (X509Certificate) chain[i];
          }
          return server(option, key, x509);
        }
      }
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IllegalArgumentException(option + ": cannot read the key in " + file + ": " + e, e);
    }
    throw new IllegalArgumentException(option + ": " + file + " holds no private key entry");
  }

  // ---- client ----

  /** Client TLS trusting {@code trusted} (CA or self-signed certificates), with hostname checks. */
  public static Tls clientTrusting(String option, X509Certificate... trusted) {
    Objects.requireNonNull(trusted, "trusted");
    if (trusted.length == 0) {
      throw new IllegalArgumentException(option + " needs at least one trusted certificate");
    }
    for (X509Certificate c : trusted) {
      Objects.requireNonNull(c, "certificate");
    }
    try {
      SslContext context =
          SslContextBuilder.forClient()
              .sslProvider(SslProvider.JDK)
              .protocols(PROTOCOLS)
              .trustManager(trusted)
              .endpointIdentificationAlgorithm("HTTPS")
              .build();
      return new Tls(context, false, true, null);
    } catch (SSLException e) {
      throw new IllegalArgumentException(option + ": cannot use these certificates: " + e, e);
    }
  }

  /** Client TLS trusting every certificate entry of a PKCS#12 trust store, with hostname checks. */
  public static Tls clientTrustStore(String option, Path file, char[] password) {
    KeyStore store = load(option, file, password);
    List<X509Certificate> trusted = new ArrayList<>();
    try {
      for (String alias : Collections.list(store.aliases())) {
        Certificate c = store.getCertificate(alias);
        if (c instanceof X509Certificate x509) {
          trusted.add(x509);
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(option + ": cannot read " + file + ": " + e, e);
    }
    if (trusted.isEmpty()) {
      throw new IllegalArgumentException(option + ": " + file + " holds no certificate");
    }
    return clientTrusting(option, trusted.toArray(new X509Certificate[0]));
  }

  /** Client TLS accepting exactly the server leaf certificate whose SHA-256 is {@code hex}. */
  public static Tls clientPinned(String option, String hex) {
    byte[] pin = parseFingerprint(option, hex);
    try {
      SslContext context =
          SslContextBuilder.forClient()
              .sslProvider(SslProvider.JDK)
              .protocols(PROTOCOLS)
              .trustManager(new PinnedTrustManager(pin))
              .endpointIdentificationAlgorithm(null)
              .build();
      return new Tls(context, false, false, null);
    } catch (SSLException e) {
      throw new IllegalArgumentException(option + ": " + e, e);
    }
  }

  // ---- use ----

  /** True when this client checks the server's name, which needs a host name to dial. */
  public boolean verifiesHostname() {
    return verifiesHostname;
  }

  /** The server's leaf certificate SHA-256 in lower-case hex; null for a client. */
  public String fingerprint() {
    return fingerprint;
  }

  /**
   * A new handler for {@code channel}; {@code peer} is the address a client dials (its host is
   * used for SNI and hostname verification), ignored on a server.
   */
  public SslHandler newHandler(Channel channel, SocketAddress peer) {
    if (!server && peer instanceof InetSocketAddress inet) {
      return context.newHandler(channel.alloc(), inet.getHostString(), inet.getPort());
    }
    return context.newHandler(channel.alloc());
  }

  /** Turns a failed handshake into an error a person can act on. */
  PbException handshakeFailure(Throwable cause, SocketAddress peer) {
    String why;
    if (cause instanceof NotSslRecordException) {
      why =
          server
              ? "the client did not speak TLS (is TLS off at the client?)"
              : "the server did not answer with TLS (is TLS off at the server?)";
    } else {
      why = String.valueOf(cause.getMessage());
    }
    return new PbException(Code.PROTOCOL_ERROR, "TLS handshake with " + peer + " failed: " + why, cause);
  }

  /**
   * Lower-case hex SHA-256 of the server's leaf certificate on {@code channel}'s TLS session: the
   * peer's on a client, its own on a server; null when the channel has no TLS handler.
   *
   * @throws IllegalStateException if the TLS handshake has not completed
   */
  public static String serverCertificateSha256(Channel channel) {
    SslHandler ssl = channel.pipeline().get(SslHandler.class);
    if (ssl == null) {
      return null;
    }
    SSLEngine engine = ssl.engine();
    Certificate[] chain;
    try {
      chain = engine.getUseClientMode()
          ? engine.getSession().getPeerCertificates()
          : engine.getSession().getLocalCertificates();
    } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
      throw new IllegalStateException("the TLS handshake on " + channel + " has not completed", e);
    }
    if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      throw new IllegalStateException(
          "the TLS session on " + channel + " has no server certificate");
    }
    return sha256(leaf);
  }

  /** Lower-case hex SHA-256 of the certificate's DER encoding. */
  public static String sha256(X509Certificate certificate) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint " + certificate.getSubjectX500Principal(), e);
    }
  }

  private static byte[] parseFingerprint(String option, String hex) {
    Objects.requireNonNull(hex, "hex");
    String clean = hex.replace(":", "").replace(" ", "").toLowerCase(Locale.ROOT);
    if (clean.length() != 64 || !clean.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      throw new IllegalArgumentException(
          option + " needs 64 hex digits (a SHA-256, colons allowed), got \"" + hex + "\"");
    }
    return HexFormat.of().parseHex(clean);
  }

  private static KeyStore load(String option, Path file, char[] password) {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(password, "password");
    try (InputStream in = Files.newInputStream(file)) {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(in, password);
      return store;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          option + ": cannot open the PKCS#12 file " + file + ": " + e.getMessage(), e);
    }
  }

  /** Accepts a server whose leaf certificate has the pinned SHA-256; trusts nothing else. */
  private static final class PinnedTrustManager extends X509ExtendedTrustManager {
    private final byte[] pin;

    PinnedTrustManager(byte[] pin) {
      this.pin = pin;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the server sent no certificate");
      }
      byte[] actual;
      try {
        actual = MessageDigest.getInstance("SHA-256").digest(chain[0].getEncoded());
      } catch (NoSuchAlgorithmException e) {
        throw new CertificateException(e);
      }
      if (!MessageDigest.isEqual(actual, pin)) {
        throw new CertificateException(
            "the server's certificate SHA-256 is " + HexFormat.of().formatHex(actual)
                + ", not the pinned " + HexFormat.of().formatHex(pin));
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a pinning client does not authenticate clients");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
