package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.handler.ssl.SslHandler;
import io.pbj.Fixtures.Root;
import io.pbj.internal.Connection;
import io.pbj.testing.PbCleanup;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** TLS over TCP with certificates made by the JDK's keytool for this run. */
@Timeout(60)
class TlsTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  static final char[] PASSWORD = "changeit".toCharArray();

  @TempDir static Path dir;
  static Path localhostP12;
  static Path otherP12;
  static X509Certificate localhostCert;
  static X509Certificate otherCert;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @BeforeAll
  static void generateCertificates() throws Exception {
    localhostP12 = keytool("localhost", "dns:localhost,ip:127.0.0.1");
    otherP12 = keytool("other.example", "dns:other.example");
    localhostCert = certificate(localhostP12);
    otherCert = certificate(otherP12);
  }

  static Path keytool(String cn, String san) throws Exception {
    Path file = dir.resolve(cn + ".p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p =
        new ProcessBuilder(
                keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC",
                "-groupname", "secp256r1", "-storetype", "PKCS12", "-keystore", file.toString(),
                "-dname", "CN=" + cn, "-ext", "SAN=" + san, "-validity", "2",
                "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("keytool: " + out).isZero();
    return file;
  }

  static X509Certificate certificate(Path p12) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(p12)) {
      ks.load(in, PASSWORD);
    }
    return (X509Certificate) ks.getCertificate("server");
  }

  PbServer tlsServer(Path p12) {
    return cleanup.register(
        PbServer.builder()
            .address("127.0.0.1", 0)
            .tls(p12, PASSWORD)
            .root(new Root())
            .registry(Fixtures.registry())
            .build()
            .start());
  }

  PbClient.Builder client(PbServer server) {
    return PbClient.builder().address("127.0.0.1", server.port()).registry(Fixtures.registry());
  }

  PbClient register(PbClient.Builder b) {
    return cleanup.register(b.build());
  }

  static Throwable failureOf(CompletableFuture<?> f) throws Exception {
    try {
      f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    }
    throw new AssertionError("expected the future to fail, it succeeded");
  }

  @Test
  void pinnedClientTalksToTlsServerOverAnEncryptedPipeline() throws Exception {
    PbServer server = tlsServer(localhostP12);
    PbClient client = register(client(server).tlsPinnedSha256(server.tlsFingerprint()));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "secret").get(10, TimeUnit.SECONDS)).isEqualTo("secret");

    Connection c = (Connection) client.connection().join();
    assertThat(c.channel().pipeline().names().get(0)).isEqualTo("tls");
    assertThat(c.channel().pipeline().first()).isInstanceOf(SslHandler.class);
    SslHandler ssl = (SslHandler) c.channel().pipeline().first();
    assertThat(ssl.engine().getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
    Connection serverSide = (Connection) server.connections().iterator().next();
    assertThat(serverSide.channel().pipeline().first()).isInstanceOf(SslHandler.class);
  }

  @Test
  void fingerprintIsTheSha256OfTheServerCertificate() throws Exception {
    PbServer server = tlsServer(localhostP12);
    String expected =
        HexFormat.of()
            .formatHex(MessageDigest.getInstance("SHA-256").digest(localhostCert.getEncoded()));
    assertThat(server.tlsFingerprint()).isEqualTo(expected).hasSize(64);
    PbServer plain =
        cleanup.register(
            PbServer.builder().address("127.0.0.1", 0).root(new Root()).build().start());
    assertThat(plain.tlsFingerprint()).isNull();
  }

  @Test
  void pinAcceptsUpperCaseAndColons() throws Exception {
    PbServer server = tlsServer(localhostP12);
    String hex = server.tlsFingerprint().toUpperCase();
    StringBuilder colons = new StringBuilder();
    for (int i = 0; i < hex.length(); i += 2) {
      colons.append(i == 0 ? "" : ":").append(hex, i, i + 2);
    }
    PbClient client = register(client(server).tlsPinnedSha256(colons.toString()));
    assertThat(client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS).callRemote("echo", "x").get(10, TimeUnit.SECONDS))
        .isEqualTo("x");
  }

  @Test
  void trustedCertificateWithMatchingHostWorks() throws Exception {
    PbServer server = tlsServer(localhostP12);
    PbClient client = register(client(server).tlsTrust(localhostCert));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "trusted").get(10, TimeUnit.SECONDS)).isEqualTo("trusted");
  }

  @Test
  void trustStoreFileWorks() throws Exception {
    PbServer server = tlsServer(localhostP12);
    PbClient client = register(client(server).tlsTrustStore(localhostP12, PASSWORD));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "store").get(10, TimeUnit.SECONDS)).isEqualTo("store");
  }

  @Test
  void certificateForAnotherHostIsRefused() throws Exception {
    PbServer server = tlsServer(otherP12);
    PbClient client = register(client(server).tlsTrust(otherCert));
    Throwable t = failureOf(client.rootObject());
    assertThat(t).isInstanceOf(PbException.class);
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(t).hasMessageContaining("TLS handshake");
  }

  @Test
  void untrustedCertificateIsRefused() throws Exception {
    PbServer server = tlsServer(localhostP12);
    PbClient client = register(client(server).tlsTrust(otherCert));
    Throwable t = failureOf(client.rootObject());
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(t).hasMessageContaining("TLS handshake");
  }

  @Test
  void wrongPinIsRefusedNamingBothFingerprints() throws Exception {
    PbServer server = tlsServer(localhostP12);
    String wrong = "ab".repeat(32);
    PbClient client = register(client(server).tlsPinnedSha256(wrong));
    Throwable t = failureOf(client.rootObject());
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(t).hasMessageContaining(wrong).hasMessageContaining(server.tlsFingerprint());
  }

  @Test
  void plaintextClientIsRefusedByTlsServer() throws Exception {
    CompletableFuture<PbException> refused = new CompletableFuture<>();
    PbServer server =
        cleanup.register(
            PbServer.builder()
                .address("127.0.0.1", 0)
                .tls(localhostP12, PASSWORD)
                .root(new Root())
                .onDisconnect((c, e) -> refused.complete(e))
                .build()
                .start());
    PbClient client = register(PbClient.builder().address("127.0.0.1", server.port()));
    Throwable t = failureOf(client.rootObject());
    assertThat(t).isInstanceOf(PbException.class);
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(t).hasMessageContaining("does it require TLS?");
    PbException serverSide = refused.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(serverSide).hasMessageContaining("the client did not speak TLS");
  }

  @Test
  void tlsClientIsRefusedByPlaintextServer() throws Exception {
    PbServer server =
        cleanup.register(
            PbServer.builder().address("127.0.0.1", 0).root(new Root()).build().start());
    PbClient client =
        register(
            PbClient.builder()
                .address("127.0.0.1", server.port())
                .tlsPinnedSha256("00".repeat(32)));
    Throwable t = failureOf(client.rootObject());
    assertThat(((PbException) t).code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(t).hasMessageContaining("the server did not answer with TLS");
  }

  @Test
  void conflictingTlsOptionsFailNamingBoth() {
    PbClient.Builder b = PbClient.builder().tlsTrust(localhostCert);
    assertThatThrownBy(() -> b.tlsPinnedSha256("00".repeat(32)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbClient.Builder.tlsPinnedSha256")
        .hasMessageContaining("PbClient.Builder.tlsTrust");
    PbServer.Builder s = PbServer.builder().tls(localhostP12, PASSWORD);
    assertThatThrownBy(() -> s.tls(localhostP12, PASSWORD))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbServer.Builder.tls");
  }

  @Test
  void badTlsSettingsFailAtTheBuilder() {
    assertThatThrownBy(() -> PbClient.builder().tlsPinnedSha256("abc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tlsPinnedSha256")
        .hasMessageContaining("64 hex digits");
    assertThatThrownBy(() -> PbServer.builder().tls(localhostP12, "wrong".toCharArray()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.tls")
        .hasMessageContaining(localhostP12.toString());
    assertThatThrownBy(() -> PbServer.builder().tls(dir.resolve("missing.p12"), PASSWORD))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("missing.p12");
    assertThatThrownBy(() -> PbClient.builder().inProcess("x").tlsTrust(localhostCert).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("tlsPinnedSha256");
  }

  @Test
  void pinnedTlsWorksInProcessToo() throws Exception {
    PbServer server =
        cleanup.register(
            PbServer.builder()
                .inProcess("pbj-tls-" + System.nanoTime())
                .tls(localhostP12, PASSWORD)
                .root(new Root())
                .build()
                .start());
    PbClient client =
        register(
            PbClient.builder()
                .inProcess(((io.netty.channel.local.LocalAddress) server.localAddress()).id())
                .tlsPinnedSha256(server.tlsFingerprint()));
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "local").get(10, TimeUnit.SECONDS)).isEqualTo("local");
    assertThat(((Connection) client.connection().join()).channel().pipeline().names())
        .startsWith("tls");
  }
}
