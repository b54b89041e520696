package io.pbj.publish;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Every (identity, version) a server published, with the state it had at that version. Recording a
 * second, different state for a version fails: a version must name one state.
 *
 * <p>Thread-safety: not thread-safe; used from the thread that drives the test.
 */
final class VersionHistory {
  private final Map<String, Map<Long, byte[]>> states = new HashMap<>();

  void record(String identity, long version, byte[] state) {
    byte[] earlier =
        states.computeIfAbsent(identity, id -> new HashMap<>()).putIfAbsent(version, state.clone());
    if (earlier != null && !Arrays.equals(earlier, state)) {
      throw new AssertionError(
          identity + " v" + version + " was published with two states: " + text(earlier) + " and "
              + text(state));
    }
  }

  /** The state {@code identity} had at {@code version}, if the server ever published it. */
  Optional<byte[]> stateAt(String identity, long version) {
    byte[] s = states.getOrDefault(identity, Map.of()).get(version);
    return Optional.ofNullable(s).map(byte[]::clone);
  }

  static String text(byte[] state) {
    return new String(state, StandardCharsets.UTF_8);
  }
}
