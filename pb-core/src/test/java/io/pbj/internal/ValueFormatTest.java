package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The text {@link ValueFormat} hashes, as docs/PROTOCOL.md ("Value codec") specifies it. */
class ValueFormatTest {
  record Point(int x, int y) {}

  record Route(String name, List<Point> points, Map<String, List<Integer>> tags, Route next) {}

  enum Color {
    RED,
    GREEN
  }

  record Shape<T>(T any, Color color, Point[] corners, long[] samples) {}

  static final class Plain {
    static int ignored;
    transient int alsoIgnored;
    String b;
    int a;
  }

  @Test
  void describesRegisteredTypesBreadthFirstEachOnce() {
    PbRegistry registry = PbRegistry.builder().register(Route.class, Point.class).build();
    assertThat(ValueFormat.describe(registry, Route.class))
        .isEqualTo(
            "pbj-value-format 1\n"
                + "type 100 io.pbj.internal.ValueFormatTest$Route\n"
                + "record\n"
                + "component name java.lang.String\n"
                + "component points java.util.List<io.pbj.internal.ValueFormatTest$Point>\n"
                + "component tags java.util.Map<java.lang.String,java.util.List<java.lang.Integer>>\n"
                + "component next io.pbj.internal.ValueFormatTest$Route\n"
                + "end\n"
                + "type 101 io.pbj.internal.ValueFormatTest$Point\n"
                + "record\n"
                + "component x int\n"
                + "component y int\n"
                + "end\n");
  }

  @Test
  void describesEnumsArraysTypeVariablesAndPlainClasses() {
    PbRegistry registry =
        PbRegistry.builder()
            .register(Shape.class, Color.class, Point[].class, Point.class, Plain.class)
            .build();
    assertThat(ValueFormat.describe(registry, Shape.class))
        .isEqualTo(
            "pbj-value-format 1\n"
                + "type 100 io.pbj.internal.ValueFormatTest$Shape\n"
                + "record\n"
                + "component any T\n"
                + "component color io.pbj.internal.ValueFormatTest$Color\n"
                + "component corners io.pbj.internal.ValueFormatTest$Point[]\n"
                + "component samples long[]\n"
                + "end\n"
                + "type 101 io.pbj.internal.ValueFormatTest$Color\n"
                + "enum\n"
                + "constant RED\n"
                + "constant GREEN\n"
                + "end\n"
                + "type 103 io.pbj.internal.ValueFormatTest$Point\n"
                + "record\n"
                + "component x int\n"
                + "component y int\n"
                + "end\n");
    assertThat(ValueFormat.describe(registry, Point[].class))
        .isEqualTo(
            "pbj-value-format 1\n"
                + "type 102 [Lio.pbj.internal.ValueFormatTest$Point;\n"
                + "array io.pbj.internal.ValueFormatTest$Point\n"
                + "end\n"
                + "type 103 io.pbj.internal.ValueFormatTest$Point\n"
                + "record\n"
                + "component x int\n"
                + "component y int\n"
                + "end\n");
    assertThat(ValueFormat.describe(registry, Plain.class))
        .isEqualTo(
            "pbj-value-format 1\n"
                + "type 104 io.pbj.internal.ValueFormatTest$Plain\n"
                + "class\n"
                + "field a int\n"
                + "field b java.lang.String\n"
                + "end\n");
    assertThat(ValueFormat.describe(registry, String.class))
        .isEqualTo("pbj-value-format 1\nbuiltin java.lang.String\n");
  }
}
