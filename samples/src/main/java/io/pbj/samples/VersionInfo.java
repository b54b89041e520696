package io.pbj.samples;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * What {@code --version} prints: this jar's version, the Netty it runs on, and the JVM, the three
 * things a bug report needs.
 *
 * <p>Thread-safety: stateless.
 */
public final class VersionInfo implements IVersionProvider {
  @Override
  public String[] getVersion() {
    return lines("pbj-samples");
  }

  /** The version lines for the program {@code name}. */
  public static String[] lines(String name) {
    String netty =
        io.netty.util.Version.identify().getOrDefault("netty-transport", null) == null
            ? "unknown"
            : io.netty.util.Version.identify().get("netty-transport").artifactVersion();
    return new String[] {
      name + " " + version(),
      "Netty " + netty + ", Java " + Runtime.version() + " (" + System.getProperty("java.vm.name")
          + ")"
    };
  }

  /** The PBJ version this jar was built as. */
  public static String version() {
    Properties p = new Properties();
    try (InputStream in = VersionInfo.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      return "unknown";
    }
    return p.getProperty("version", "unknown");
  }
}
