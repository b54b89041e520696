package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every document the project cites exists: {@code docs/<NAME>.md} named in any Markdown file or Java
 * source of the repository, and every relative Markdown link to a {@code .md} file.
 */
class DocReferencesTest {
  private static final Pattern DOCS_PATH = Pattern.compile("\\bdocs/([A-Za-z_]+\\.md)");
  private static final Pattern MD_LINK = Pattern.compile("\\]\\(([^)#:\\s]+\\.md)(#[^)]*)?\\)");

  @Test
  void everyCitedDocumentExists() throws IOException {
    Path root = ReadmeSnippetsCompileTest.repositoryRoot();
    List<String> missing = new ArrayList<>();
    int seen = 0;
    try (Stream<Path> files = Files.walk(root)) {
      for (Path f : files.filter(DocReferencesTest::isSource).toList()) {
        String text = Files.readString(f);
        Matcher m = DOCS_PATH.matcher(text);
        while (m.find()) {
          seen++;
          if (!Files.exists(root.resolve("docs").resolve(m.group(1)))) {
            missing.add(root.relativize(f) + " cites docs/" + m.group(1));
          }
        }
        if (f.toString().endsWith(".md")) {
          Matcher link = MD_LINK.matcher(text);
          while (link.find()) {
            seen++;
            if (!Files.exists(f.getParent().resolve(link.group(1)))) {
              missing.add(root.relativize(f) + " links to " + link.group(1));
            }
          }
        }
      }
    }
    assertThat(seen).as("citations found (the scan works)").isGreaterThan(20);
    assertThat(missing).as("citations of documents that do not exist").isEmpty();
  }

  private static boolean isSource(Path p) {
    String s = p.toString();
    return (s.endsWith(".md") || s.endsWith(".java"))
        && !s.contains("/target/") && !s.contains("/.git/");
  }
}
