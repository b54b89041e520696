package io.pbj.publish;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Counts what the examples of a property did, under labels (a kind of step, how an attach went),
 * so the test can require that each kind happened in some example: a property whose generators
 * stopped producing a case would otherwise go on passing without testing it.
 *
 * <pre>{@code
 * Coverage coverage = new Coverage();
 * coverage.collect("attaches", Mode.INVENTORY, "all hits");     // from the examples
 * assertThat(coverage.count("attaches", v -> v.get(1).equals("all hits"))).isPositive();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; examples may collect from any thread.
 */
final class Coverage {
  /** For each label, each list of values collected under it and how many times. */
  private final Map<String, Map<List<Object>, Integer>> counts = new TreeMap<>();

  synchronized void collect(String label, Object... values) {
    counts.computeIfAbsent(label, l -> new TreeMap<>(Coverage::compareAsText))
        .merge(List.of(values), 1, Integer::sum);
  }

  /** How many times values matching {@code which} were collected under {@code label}. */
  synchronized int count(String label, Predicate<List<Object>> which) {
    int n = 0;
    for (Map.Entry<List<Object>, Integer> e : counts.getOrDefault(label, Map.of()).entrySet()) {
      if (which.test(e.getKey())) {
        n += e.getValue();
      }
    }
    return n;
  }

  /** Every label with its values and counts, one line each, for a test's output. */
  @Override
  public synchronized String toString() {
    List<String> lines = new ArrayList<>();
    counts.forEach((label, values) -> {
      lines.add(label + ":");
      values.forEach((v, n) -> lines.add(String.format("  %5d  %s", n,
          v.stream().map(String::valueOf).collect(Collectors.joining(", ")))));
    });
    return String.join(System.lineSeparator(), lines);
  }

  private static int compareAsText(List<Object> a, List<Object> b) {
    return a.toString().compareTo(b.toString());
  }
}
