package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An application whose Netty is 4.1 (Spring Boot 3's, say) gets one clear error naming the
 * artifact and the fix when it builds a server or client, not a NoClassDefFoundError from inside
 * an event loop group. Netty 4.1 is simulated by a class loader that hides the 4.2 classes PBJ
 * uses and reports 4.1 versions in Netty's version files.
 */
class NettyCompatibilityTest {
  private static final String VERSIONS = "META-INF/io.netty.versions.properties";

  /** Classes Netty 4.2 added and PBJ's transports use. */
  private static final Predicate<String> NETTY_42_ONLY =
      n -> n.startsWith("io.netty.channel.")
          && (n.contains("IoHandler") || n.contains("IoEventLoop") || n.contains("IoRegistration"));

  @TempDir Path dir;

  @Test
  void serverBuilderOnNetty41NamesTheArtifactFoundAndTheNettyBomFix() throws Exception {
    try (HidingClassLoader netty41 =
        new HidingClassLoader(NETTY_42_ONLY, VERSIONS, List.of(versionsAs("4.1.118.Final")))) {
      assertThatThrownBy(() -> builder(netty41, "io.pbj.PbServer"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(":4.1.118.Final is on the class path")
          .hasMessageContaining("PBJ needs Netty 4.2")
          .hasMessageContaining("io.netty:netty-bom:4.2.");
    }
  }

  @Test
  void clientBuilderOnNetty41FailsTheSameWay() throws Exception {
    try (HidingClassLoader netty41 =
        new HidingClassLoader(NETTY_42_ONLY, VERSIONS, List.of(versionsAs("4.1.118.Final")))) {
      assertThatThrownBy(() -> builder(netty41, "io.pbj.PbClient"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("4.1.118.Final")
          .hasMessageContaining("netty-bom");
    }
  }

  @Test
  void withoutVersionFilesTheMissingClassStillNamesNettyTransportAndTheFix() throws Exception {
    // a repackaged Netty has no version files: the class probe alone must tell
    try (HidingClassLoader old = new HidingClassLoader(NETTY_42_ONLY, VERSIONS, List.of())) {
      assertThatThrownBy(() -> builder(old, "io.pbj.PbServer"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("io.netty:netty-transport on the class path has no"
              + " io.netty.channel.IoHandler, so it is older than 4.2")
          .hasMessageContaining("netty-bom");
    }
  }

  @Test
  void oneNetty41ModuleAmong42IsNamed() throws Exception {
    // a half-managed class path: netty-transport 4.2 but netty-common 4.1
    List<URL> versions = new ArrayList<>(Collections.list(getClass().getClassLoader().getResources(VERSIONS)));
    versions.add(write("common41.properties", "netty-common.version=4.1.118.Final\n"
        + "netty-common.buildDate=2025-01-01 00:00:00 +0000\n"
        + "netty-common.commitDate=2025-01-01 00:00:00 +0000\n"
        + "netty-common.shortCommitHash=0\nnetty-common.longCommitHash=0\n"
        + "netty-common.repoStatus=clean\n"));
    try (HidingClassLoader mixed = new HidingClassLoader(n -> false, VERSIONS, versions)) {
      assertThatThrownBy(() -> builder(mixed, "io.pbj.PbServer"))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("io.netty:netty-common:4.1.118.Final is on the class path");
    }
  }

  @Test
  void theSameIsolatedClassPathWithNetty42Builds() throws Throwable {
    // the control: isolation alone does not fail the check
    try (HidingClassLoader same = new HidingClassLoader(n -> false, null, List.of())) {
      assertThat(builder(same, "io.pbj.PbServer")).isNotNull();
      assertThat(builder(same, "io.pbj.PbClient")).isNotNull();
    }
  }

  private static Object builder(ClassLoader loader, String owner) throws Throwable {
    try {
      return Class.forName(owner, true, loader).getMethod("builder").invoke(null);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  /** Every Netty version file on the class path, merged, with each version replaced. */
  private URL versionsAs(String version) throws IOException {
    StringBuilder all = new StringBuilder();
    for (URL u : Collections.list(getClass().getClassLoader().getResources(VERSIONS))) {
      try (InputStream in = u.openStream()) {
        all.append(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1)).append('\n');
      }
    }
    assertThat(all).as("Netty's version files on the test class path").contains(".version=4.2.");
    return write("netty41.properties", all.toString().replaceAll("\\.version=4\\.2\\.[^\\s]+", ".version=" + version));
  }

  private URL write(String name, String content) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, content, StandardCharsets.ISO_8859_1);
    return f.toUri().toURL();
  }
}
