package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.pbj.Fixtures.Nest;
import io.pbj.Fixtures.Point;
import io.pbj.Fixtures.Route;
import io.pbj.Fixtures.Scoreboard;
import io.pbj.Fixtures.Unregistered;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PbCodec}: round trips, every refusal, and the format fingerprint. */
class PbCodecTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  enum Color {
    RED,
    GREEN
  }

  record Tagged(Color color, Object any, List<Point> points, Map<String, Set<Long>> index) {}

  record Holder(Object any) {}

  static final PbRegistry REGISTRY =
      Fixtures.registry().toBuilder().register(Color.class, Tagged.class, Holder.class).build();

  final PbCodec codec = PbCodec.of(REGISTRY);

  // ---- round trips ----

  @Test
  void registeredRecordsRoundTrip() {
    Point p = new Point(1, 2);
    byte[] b = codec.encode(p);
    assertThat(codec.decode(b, Point.class)).isEqualTo(p);

    Route route =
        new Route("r", List.of(new Point(1, 2), new Point(-3, 4)), Map.of("k", List.of(1, 2, 3)));
    assertThat(codec.decode(codec.encode(route), Route.class)).isEqualTo(route);
    assertThat(codec.decode(codec.encode(Nest.ofDepth(20)), Nest.class)).isEqualTo(Nest.ofDepth(20));
  }

  @Test
  void nestedValuesOfEveryKindRoundTrip() {
    Map<String, Set<Long>> index = new HashMap<>();
    index.put("a", new LinkedHashSet<>(List.of(1L, 2L)));
    index.put("b", Set.of());
    Tagged t =
        new Tagged(
            Color.GREEN,
            new Holder(List.of(UUID.fromString("00000000-0000-0001-0000-000000000002"))),
            new ArrayList<>(List.of(new Point(5, 6))),
            index);
    assertThat(codec.decode(codec.encode(t), Tagged.class)).isEqualTo(t);
  }

  @Test
  void builtInValuesAndNullRoundTrip() {
    List<Object> values =
        List.of(
            "text",
            42,
            7L,
            true,
            2.5,
            List.of(1, "two"),
            Map.of("k", List.of(new Point(1, 1))),
            Instant.ofEpochSecond(1_700_000_000L, 5),
            Duration.ofMillis(1500));
    for (Object v : values) {
      assertThat(codec.decode(codec.encode(v), Object.class)).isEqualTo(v);
    }
    assertThat(codec.decode(codec.encode(new byte[] {1, 2, 3}), byte[].class))
        .containsExactly(1, 2, 3);
    assertThat(codec.decode(codec.encode(null), Point.class)).isNull();
    assertThat(codec.decode(codec.encode(3), int.class)).isEqualTo(3);
  }

  @Test
  void ofGivesOneCodecPerRegistryAndAConnectionGivesItsRegistrysCodec() throws Exception {
    assertThat(PbCodec.of(REGISTRY)).isSameAs(codec);
    PbServer server = startServer(b -> b.registry(REGISTRY));
    PbClient client = client(server, b -> b.registry(REGISTRY));
    assertThat(get(client.connection()).codec()).isSameAs(codec);
    assertThat(codec.maxDecodedBytes()).isEqualTo(64 << 20);
  }

  @Test
  void manyThreadsEncodeAndDecodeAtOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int base = t;
        results.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < 500; i++) {
                    Route r =
                        new Route("r" + i, List.of(new Point(base, i)), Map.of("t", List.of(i)));
                    if (!codec.decode(codec.encode(r), Route.class).equals(r)) {
                      return false;
                    }
                  }
                  return true;
                }));
      }
      for (Future<Boolean> f : results) {
        assertThat(f.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  // ---- what never encodes ----

  @Test
  void anUnregisteredClassIsRefusedNamingIt() {
    assertThatThrownBy(() -> codec.encode(new Unregistered("x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Unregistered.class.getName() + " is not registered")
        .hasMessageContaining("PbRegistry.Builder.register");
    assertThatThrownBy(() -> codec.encode(new Holder(List.of(new Unregistered("x")))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("cannot encode a " + Holder.class.getName())
        .hasMessageContaining(Unregistered.class.getName() + " is not registered");
  }

  @Test
  void referencesAreRefused() {
    assertThatThrownBy(() -> codec.encode(new Scoreboard()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Scoreboard.class.getName() + " is a reference");
    Referenceable endpoint = new Referenceable() {};
    assertThatThrownBy(() -> codec.encode(endpoint))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is a reference");
    assertThatThrownBy(() -> codec.encode(new Holder(List.of(endpoint))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("references exist only on a connection");
  }

  @Test
  void aReferenceReceivedOverAConnectionIsRefused() throws Exception {
    PbServer server = startServer(b -> b.registry(REGISTRY));
    RemoteReference root = client(server, b -> b.registry(REGISTRY)).rootObject().join();
    assertThatThrownBy(() -> codec.encode(root))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is a reference");
  }

  @Test
  void anEncodingLargerThanTheLimitIsRefused() {
    PbCodec small = PbCodec.of(REGISTRY, 16);
    assertThat(small.maxDecodedBytes()).isEqualTo(16);
    assertThat(small.decode(small.encode("0123456789"), String.class)).isEqualTo("0123456789");
    assertThatThrownBy(() -> small.encode("0123456789abcdefghij"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("larger than the codec's limit of 16 bytes");
    assertThatThrownBy(() -> PbCodec.of(REGISTRY, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxBytes must be at least 1, got 0");
  }

  @Test
  void aValueNestedTooDeeplyIsRefused() {
    assertThatThrownBy(() -> codec.encode(Nest.ofDepth(100)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nests deeper than the limit of 64 levels");
  }

  // ---- what never decodes ----

  static PbException decodeFailure(PbCodec codec, byte[] bytes, Class<?> type) {
    try {
      codec.decode(bytes, type);
    } catch (PbException e) {
      assertThat(e.code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
      assertThat(e.detail())
          .startsWith("cannot decode a " + type.getName() + " from " + bytes.length + " bytes: ");
      return e;
    }
    throw new AssertionError("decoded " + Arrays.toString(bytes) + " as a " + type.getName());
  }

  @Test
  void garbageIsRefused() {
    decodeFailure(codec, new byte[] {(byte) 0x7f, 1, 2, 3}, Object.class);
    decodeFailure(codec, new byte[0], Object.class);
    assertThat(decodeFailure(codec, new byte[] {(byte) 0x90, 0x7f}, Object.class).detail())
        .contains("unregistered class ID");
  }

  @Test
  void truncatedBytesAreRefused() {
    byte[] b = codec.encode(new Point(100_000, 200_000));
    byte[] cut = Arrays.copyOf(b, b.length - 1);
    assertThat(decodeFailure(codec, cut, Point.class).detail()).contains("truncated");
    byte[] route = codec.encode(new Route("name", List.of(new Point(1, 2)), Map.of()));
    for (int n = 0; n < route.length; n++) {
      decodeFailure(codec, Arrays.copyOf(route, n), Route.class);
    }
  }

  @Test
  void trailingBytesAreRefused() {
    byte[] b = codec.encode(new Point(1, 2));
    byte[] longer = Arrays.copyOf(b, b.length + 1);
    assertThat(decodeFailure(codec, longer, Point.class).detail())
        .contains("1 byte follows the value");
  }

  @Test
  void aValueOfAnotherTypeIsRefused() {
    byte[] b = codec.encode(new Point(1, 2));
    assertThat(decodeFailure(codec, b, Route.class).detail())
        .endsWith("they hold a " + Point.class.getName());
    assertThat(decodeFailure(codec, codec.encode(null), int.class).detail())
        .contains("they hold null, which a int cannot be");
  }

  @Test
  void bytesLargerThanTheLimitAreRefusedBeforeDecoding() {
    PbCodec small = PbCodec.of(REGISTRY, 16);
    byte[] b = codec.encode("0123456789abcdefghij");
    assertThat(decodeFailure(small, b, String.class).detail())
        .endsWith("more than the codec's limit of 16 bytes");
  }

  @Test
  void bytesHoldingAReferenceAreRefused() {
    // class id 10 (the reference marker, written +2), then "your object #5"
    assertThat(decodeFailure(codec, new byte[] {12, 0, 5}, Object.class).detail())
        .contains("the bytes hold a reference");
  }

  @Test
  void aHugeClaimedLengthIsRefusedWithoutAllocatingIt() {
    // an ArrayList (built-in id 18, written +2) claiming 2^30 elements, in 7 bytes
    byte[] b = {20, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04, 0};
    decodeFailure(codec, b, Object.class);
    // an immutable list claiming 2^28 elements
    byte[] list = codec.encode(List.of(1, 2, 3));
    byte[] claim = {list[0], (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x40, 2, 2};
    assertThat(decodeFailure(codec, claim, Object.class).detail()).contains("claims");
  }

  @Test
  void deepNestingInTheBytesIsRefused() {
    byte[] one = codec.encode(Nest.ofDepth(1));
    byte[] two = codec.encode(Nest.ofDepth(2));
    // each level adds the same bytes before the innermost null
    int unit = two.length - one.length;
    byte[] deep = new byte[one.length + 200 * unit];
    System.arraycopy(two, 0, deep, 0, two.length - 1);
    for (int i = two.length - 1; i < deep.length - 1; i++) {
      deep[i] = two[two.length - 2];
    }
    deep[deep.length - 1] = two[two.length - 1];
    assertThat(codec.decode(Arrays.copyOf(two, two.length), Nest.class)).isEqualTo(Nest.ofDepth(2));
    assertThat(decodeFailure(codec, deep, Nest.class).detail())
        .contains("nests deeper than the limit of 64 levels");
  }

  @Test
  void anyBytesDecodeOrAreRefusedWithBadArguments() {
    List<byte[]> valid =
        List.of(
            codec.encode(new Route("r", List.of(new Point(1, 2)), Map.of("t", List.of(1)))),
            codec.encode(Map.of("k", Set.of(1L, 2L))),
            codec.encode(new Tagged(Color.RED, "x", List.of(), new HashMap<>())));
    qt().withExamples(3000)
        .forAll(
            integers().between(-1, valid.size() - 1),
            lists().of(integers().between(0, 255)).ofSizeBetween(0, 48),
            integers().between(0, 1 << 20))
        .checkAssert(
            (base, noise, seed) -> {
              byte[] bytes = mutate(base < 0 ? new byte[0] : valid.get(base), noise, seed);
              try {
                codec.decode(bytes, Object.class);
              } catch (PbException e) {
                assertThat(e.code()).isEqualTo(PbException.Code.BAD_ARGUMENTS);
              }
            });
  }

  /** A valid encoding with {@code noise} written over it at places {@code seed} picks, or noise alone. */
  private static byte[] mutate(byte[] base, List<Integer> noise, int seed) {
    if (base.length == 0) {
      byte[] b = new byte[noise.size()];
      for (int i = 0; i < b.length; i++) {
        b[i] = (byte) (int) noise.get(i);
      }
      return b;
    }
    byte[] b = Arrays.copyOf(base, base.length + (seed & 3));
    java.util.Random random = new java.util.Random(seed);
    for (int n : noise.subList(0, Math.min(noise.size(), 4))) {
      b[random.nextInt(b.length)] = (byte) n;
    }
    return b;
  }

  // ---- formatOf ----

  @Test
  void formatOfIsAFixedValueForAFixedShape() {
    // computed once from docs/PROTOCOL.md's algorithm; a change here changes every stored format
    assertThat(codec.formatOf(Point.class)).isEqualTo(POINT_FORMAT);
    assertThat(codec.formatOf(Point.class)).isPositive();
    PbRegistry same = Fixtures.registry();
    assertThat(PbCodec.of(same).formatOf(Point.class)).isEqualTo(POINT_FORMAT);
    assertThat(PbCodec.of(same).formatOf(Route.class)).isEqualTo(codec.formatOf(Route.class));
  }

  /**
   * SHA-256 of "pbj-value-format 1\ntype 100 io.pbj.Fixtures$Point\nrecord\ncomponent x int\n
   * component y int\nend\n", first four bytes big-endian, sign bit cleared (checked with
   * Python's hashlib).
   */
  static final int POINT_FORMAT = 636082180;

  @Test
  void formatOfDependsOnTheRegistrationId() {
    PbRegistry moved = PbRegistry.builder().register(Point.class, 500).build();
    assertThat(PbCodec.of(moved).formatOf(Point.class)).isNotEqualTo(codec.formatOf(Point.class));
    PbRegistry routeElsewhere =
        PbRegistry.builder().register(Route.class).register(Point.class, 300).build();
    assertThat(PbCodec.of(routeElsewhere).formatOf(Route.class))
        .isNotEqualTo(codec.formatOf(Route.class));
  }

  @Test
  void formatOfRefusesBytesContainersAndUnregisteredClasses() {
    assertThatThrownBy(() -> codec.formatOf(byte[].class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("byte[] has no shape");
    assertThatThrownBy(() -> codec.formatOf(Unregistered.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Unregistered.class.getName() + " is not registered");
    assertThatThrownBy(() -> codec.formatOf(ArrayList.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("wrap it in a registered record");
    assertThat(codec.formatOf(String.class)).isPositive().isNotEqualTo(codec.formatOf(Long.class));
    assertThat(codec.formatOf(long.class)).isEqualTo(codec.formatOf(Long.class));
  }

  @Test
  void formatOfChangesWhenAComponentIsAddedRemovedRenamedOrRetyped(@TempDir Path dir)
      throws Exception {
    String route = "public record Route(String name, Position from) {}";
    int original = formatOf(dir, "original", "public record Position(int x, int y) {}", route);
    assertThat(formatOf(dir, "again", "public record Position(int x, int y) {}", route))
        .isEqualTo(original);
    assertThat(formatOf(dir, "added", "public record Position(int x, int y, int z) {}", route))
        .isNotEqualTo(original);
    assertThat(formatOf(dir, "removed", "public record Position(int x) {}", route))
        .isNotEqualTo(original);
    assertThat(formatOf(dir, "renamed", "public record Position(int x, int yy) {}", route))
        .isNotEqualTo(original);
    assertThat(formatOf(dir, "retyped", "public record Position(int x, long y) {}", route))
        .isNotEqualTo(original);
    assertThat(
            formatOf(
                dir,
                "generic",
                "public record Position(int x, int y) {}",
                "public record Route(String name, Position from, java.util.List<Position> via) {}"))
        .isNotEqualTo(
            formatOf(
                dir,
                "generic2",
                "public record Position(int x, int y) {}",
                "public record Route(String name, Position from, java.util.List<String> via) {}"));
  }

  /**
   * Compiles {@code position} and {@code route} (package {@code shape}) into a class loader of
   * their own, registers Route at 100 and Position at 101, and answers Route's format.
   */
  private static int formatOf(Path dir, String name, String position, String route)
      throws IOException, ReflectiveOperationException {
    Path src = dir.resolve(name + "-src/shape");
    Path out = dir.resolve(name + "-classes");
    Files.createDirectories(src);
    Files.createDirectories(out);
    Files.writeString(src.resolve("Position.java"), "package shape;\n" + position);
    Files.writeString(src.resolve("Route.java"), "package shape;\n" + route);
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    int rc =
        javac.run(
            null, null, null, "-d", out.toString(),
            src.resolve("Position.java").toString(), src.resolve("Route.java").toString());
    assertThat(rc).as("javac exit code").isZero();
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {out.toUri().toURL()}, PbCodecTest.class.getClassLoader())) {
      Class<?> routeClass = loader.loadClass("shape.Route");
      Class<?> positionClass = loader.loadClass("shape.Position");
      PbRegistry registry =
          PbRegistry.builder().register(routeClass, 100).register(positionClass, 101).build();
      return PbCodec.of(registry).formatOf(routeClass);
    }
  }
}
