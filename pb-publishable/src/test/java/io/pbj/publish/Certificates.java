package io.pbj.publish;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Self-signed TLS certificates for tests, made by the JDK's keytool. */
final class Certificates {
  private Certificates() {}

  /** A PKCS#12 file in {@code dir} with an EC key and a self-signed certificate for {@code cn}. */
  static Path selfSigned(Path dir, String cn, char[] password) throws Exception {
    Path file = dir.resolve(cn + ".p12");
    Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
    Process p = new ProcessBuilder(
            keytool.toString(), "-genkeypair", "-alias", "server", "-keyalg", "EC",
            "-groupname", "secp256r1", "-storetype", "PKCS12", "-keystore", file.toString(),
            "-dname", "CN=" + cn, "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
            "-storepass", new String(password), "-keypass", new String(password))
        .redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + out);
    }
    return file;
  }
}
