package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The {@code summary key=value ...} line a world command ends its output with. */
final class SummaryLine {
  private SummaryLine() {}

  /** The fields of the last line of {@code output}, which must be the summary line. */
  static Map<String, Long> of(String output) {
    List<String> lines = output.lines().toList();
    assertThat(lines).as("output").isNotEmpty();
    String last = lines.get(lines.size() - 1);
    assertThat(last).as("last line").startsWith("summary ");
    return fieldsOf(output);
  }

  /** The fields of the one summary line of {@code output}, wherever it is. */
  static Map<String, Long> fieldsOf(String output) {
    List<String> lines = output.lines().toList();
    assertThat(lines.stream().filter(l -> l.startsWith("summary "))).as("summary lines").hasSize(1);
    String last = lines.stream().filter(l -> l.startsWith("summary ")).findFirst().orElseThrow();
    Map<String, Long> fields = new LinkedHashMap<>();
    for (String part : last.substring("summary ".length()).split(" ")) {
      String[] kv = part.split("=", 2);
      assertThat(kv).as("field %s", part).hasSize(2);
      fields.put(kv[0], Long.parseLong(kv[1]));
    }
    return fields;
  }
}
