package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```java} block of the README and of {@code docs/WALKTHROUGH.md} compiles against
 * the library modules, as a reader would paste it: its imports on top, its type declarations,
 * and its statements. Each block becomes one class: the declarations its members, the statements
 * the body of a method, so a block may declare a type and use it at once. A block that names
 * something it neither imports nor declares fails here.
 */
class ReadmeSnippetsCompileTest {
  private static final Pattern DECLARATION =
      Pattern.compile("^(@\\w+\\s+)*((public|final|abstract|static|sealed)\\s+)*"
          + "(class|interface|record|enum)\\s+\\w+.*");

  @TempDir Path out;

  @TestFactory
  Stream<DynamicTest> everyJavaBlockCompiles() throws IOException {
    Path root = repositoryRoot();
    List<DynamicTest> tests = new ArrayList<>();
    Path readme = root.resolve("README.md");
    List<Block> blocks = blocks(readme);
    assertThat(blocks).as("java blocks in the README").hasSizeGreaterThanOrEqualTo(5);
    for (Block b : blocks) {
      String name = "README.md:" + b.line();
      tests.add(DynamicTest.dynamicTest(name, () -> compile(name, b)));
    }
    // the walkthrough's blocks build one program, step by step: compiled together
    Path walkthrough = root.resolve("docs/WALKTHROUGH.md");
    List<String> program = new ArrayList<>();
    List<Block> steps = blocks(walkthrough);
    assertThat(steps).as("java blocks in the walkthrough").hasSizeGreaterThanOrEqualTo(5);
    steps.forEach(b -> program.addAll(b.lines()));
    tests.add(DynamicTest.dynamicTest("docs/WALKTHROUGH.md (all blocks)",
        () -> compile("docs/WALKTHROUGH.md", new Block(0, program))));
    return tests.stream();
  }

  /** One fenced block and the line of its fence. */
  record Block(int line, List<String> lines) {}

  static List<Block> blocks(Path doc) throws IOException {
    List<String> all = Files.readAllLines(doc);
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).trim().equals("```java")) {
        int start = i + 1;
        int end = start;
        while (end < all.size() && !all.get(end).trim().equals("```")) {
          end++;
        }
        blocks.add(new Block(i + 1, all.subList(start, end)));
        i = end;
      }
    }
    return blocks;
  }

  private void compile(String name, Block block) throws IOException {
    String className = "Snippet" + block.line();
    String source = wrap(className, block.lines());
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    JavaFileObject file =
        new SimpleJavaFileObject(URI.create("string:///readme/" + className + ".java"),
            JavaFileObject.Kind.SOURCE) {
          @Override
          public CharSequence getCharContent(boolean ignoreEncodingErrors) {
            return source;
          }
        };
    Path classes = Files.createDirectories(out.resolve(className));
    List<String> options = List.of("--release", "17", "-proc:none", "-Xlint:none", "-nowarn",
        "-classpath", testClassPath(), "-d", classes.toString());
    StringWriter log = new StringWriter();
    boolean ok = javac.getTask(log, null, diagnostics, options, null, List.of(file)).call();
    StringBuilder errors = new StringBuilder();
    diagnostics.getDiagnostics().stream()
        .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR)
        .forEach(d -> errors.append("\n  ").append(d.getMessage(Locale.ROOT))
            .append("\n    at: ").append(lineOf(source, d.getLineNumber())));
    assertThat(ok).as("%s does not compile:%s\n%s", name, errors, log).isTrue();
  }

  /** package; imports; class { declarations; void run() { statements } }. */
  static String wrap(String className, List<String> lines) {
    StringBuilder imports = new StringBuilder("package readme;\n");
    StringBuilder members = new StringBuilder();
    StringBuilder statements = new StringBuilder();
    int i = 0;
    while (i < lines.size()) {
      String line = lines.get(i);
      if (line.startsWith("import ")) {
        imports.append(line).append('\n');
        i++;
      } else if (DECLARATION.matcher(line).matches()) {
        int depth = 0;
        boolean opened = false;
        do {
          String l = lines.get(i);
          members.append(l).append('\n');
          for (char c : l.toCharArray()) {
            if (c == '{') {
              depth++;
              opened = true;
            } else if (c == '}') {
              depth--;
            }
          }
          i++;
        } while (i < lines.size() && (!opened || depth > 0));
      } else {
        statements.append(line).append('\n');
        i++;
      }
    }
    return imports + "\n@SuppressWarnings(\"all\")\nclass " + className + " {\n" + members
        + "\nvoid run() throws Exception {\n" + statements + "}\n}\n";
  }

  private static String lineOf(String source, long line) {
    String[] lines = source.split("\n", -1);
    return line >= 1 && line <= lines.length ? lines[(int) line - 1].trim() : "?";
  }

  private static String testClassPath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  /** The repository root: the first parent of the module directory with README.md and docs/. */
  static Path repositoryRoot() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null
        && !(Files.exists(p.resolve("README.md")) && Files.isDirectory(p.resolve("docs")))) {
      p = p.getParent();
    }
    assertThat(p).as("a README.md with docs/ above " + Path.of("").toAbsolutePath()).isNotNull();
    return p;
  }
}
