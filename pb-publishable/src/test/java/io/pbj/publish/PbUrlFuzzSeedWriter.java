package io.pbj.publish;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes the seed corpora of {@link PbUrlFuzzTest} under a test resources root. Run from the
 * module directory when the reference syntax changes:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.pbj.publish.PbUrlFuzzSeedWriter src/test/resources
 * </pre>
 *
 * <p>(with {@code cp.txt} from {@code mvn -pl pb-publishable -am test-compile
 * dependency:build-classpath -Dmdep.outputFile=cp.txt}, run from the project root: pb-core and
 * pb-cache-store come from the reactor). The seeds are deterministic. Crash reproducers copied into the same directories are left
 * alone. Not thread-safe; a one-shot tool.
 */
public final class PbUrlFuzzSeedWriter {
  private PbUrlFuzzSeedWriter() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources").resolve("io/pbj/publish/PbUrlFuzzTestInputs");
    Path text = root.resolve("anyTextParsesToAReferenceThatPrintsBackOrIsRefusedNamingWhere");
    Files.createDirectories(text);
    String id = "pbj1-" + "abcdefghijklmnopqrstuvwxyz234567".repeat(2).substring(0, 52);
    write(text, "dns-name", "pb://" + id + "@game.example.com:7000/world/c%3A12%3A7");
    write(text, "ipv4", "pb://origin@10.0.0.1:1/a/b");
    write(text, "ipv6", "pb://ab:cd:ef@[fe80::1]:65535/world/house%2F3");
    write(text, "upper-case-scheme-and-escapes", "PB://s%41@h:007/w%C3%B6rld/%F0%9F%8C%8D%20x");
    write(text, "sub-delims-in-identity", "pb://s@h:1/a/!$&'()*+,;=:@");
    write(text, "query", "pb://s@h:1/a/b?x=1");
    write(text, "fragment", "pb://s@h:1/a/b#f");
    write(text, "no-port", "pb://s@h/a/b");
    write(text, "port-zero", "pb://s@h:0/a/b");
    write(text, "three-segments", "pb://s@h:1/a/b/c");
    write(text, "bad-escape", "pb://s@h:1/a/b%zz");
    write(text, "truncated-escape", "pb://s@h:1/a/b%4");
    write(text, "invalid-utf8", "pb://s@h:1/a/%C3%28");
    write(text, "escaped-control-character", "pb://s@h:1/a/b%00");
    write(text, "escaped-c1-control-character", "pb://s@h:1/a/%C2%85");
    write(text, "unbracketed-ipv6", "pb://s@::1:7/a/b");
    write(text, "bad-ipv4", "pb://s@1.2.3.256:7/a/b");
    write(text, "empty-label", "pb://s@a..b:7/a/b");
    write(text, "raw-space", "pb://s@h:1/a/b c");
    write(text, "longer-once-canonical", "pb://s@h:1/a/" + "!".repeat(3000));

    Path parts = root.resolve("anyReferenceTheConstructorAcceptsPrintsAndParsesBack");
    Files.createDirectories(parts);
    Random random = new Random(5);
    for (int size : new int[] {16, 64, 256}) {
      byte[] seed = new byte[size];
      random.nextBytes(seed);
      Files.write(parts.resolve("random-" + size), seed);
    }
    write(parts, "ascii", "origin-1.example.com:7000 world house/3 with some more text for the parts");
  }

  private static void write(Path dir, String name, String text) throws IOException {
    Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
  }
}
