package io.pbj.internal;

import io.netty.util.Version;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Refuses to start on a Netty other than 4.2, with a message that names what was found and the
 * fix, instead of the {@code NoClassDefFoundError: io/netty/channel/epoll/EpollIoHandler} that an
 * application managed to Netty 4.1 (Spring Boot 3, for one) would otherwise meet deep inside the
 * first event loop group. Checked once per class loader, before a server or client is built.
 *
 * <p>Thread-safety: stateless apart from a benign racy "already checked" flag.
 */
public final class NettyCompatibility {
  /** New in Netty 4.2 and used by every transport PBJ builds (MultiThreadIoEventLoopGroup). */
  static final String PROBE_CLASS = "io.netty.channel.IoHandler";

  private static final Properties BUILD = readBuild();
  private static volatile boolean checked;

  private NettyCompatibility() {}

  /** The PBJ version of this jar, as the build recorded it. */
  public static String pbjVersion() {
    return BUILD.getProperty("pbj.version", "unknown");
  }

  /** The Netty version PBJ was built and tested with. */
  public static String builtWithNetty() {
    return BUILD.getProperty("netty.version", "4.2");
  }

  /**
   * Throws {@link IllegalStateException} naming the Netty artifact at fault and the fix, unless
   * every Netty module on PBJ's class path is 4.2.
   */
  public static void check() {
    if (checked) {
      return;
    }
    String problem = problem(NettyCompatibility.class.getClassLoader());
    if (problem != null) {
      throw new IllegalStateException(problem);
    }
    checked = true;
  }

  /** Null when {@code loader} sees a usable Netty, else what is wrong and how to fix it. */
  static String problem(ClassLoader loader) {
    Map<String, String> found = new TreeMap<>();
    try {
      Version.identify(loader).forEach((artifact, v) -> found.put(artifact, v.artifactVersion()));
    } catch (RuntimeException | LinkageError e) {
      // no version files to read (a shaded or repackaged Netty): the class probe decides alone
    }
    String fix =
        ". PBJ needs Netty 4.2 (built with " + builtWithNetty() + "): import"
            + " io.netty:netty-bom:" + builtWithNetty() + " (or io.pbj:pbj-bom, which imports"
            + " it) in your dependencyManagement so that every Netty module is 4.2; in a Spring"
            + " Boot application, set the property netty.version to " + builtWithNetty();
    for (Map.Entry<String, String> e : found.entrySet()) {
      if (!e.getValue().startsWith("4.2.")) {
        return "io.netty:" + e.getKey() + ":" + e.getValue() + " is on the class path" + fix;
      }
    }
    try {
      Class.forName(PROBE_CLASS, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      String transport = found.get("netty-transport");
      return "io.netty:netty-transport" + (transport == null ? "" : ":" + transport)
          + " on the class path has no " + PROBE_CLASS + ", so it is older than 4.2" + fix;
    }
    return null;
  }

  private static Properties readBuild() {
    Properties p = new Properties();
    try (InputStream in = NettyCompatibility.class.getResourceAsStream("pbj-build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return p;
  }
}
