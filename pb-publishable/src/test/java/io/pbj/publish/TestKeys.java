package io.pbj.publish;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Server keys for tests, one per name for the whole test run: {@code key("origin-1")} is the same
 * key wherever a test asks for it, so a server "restarted" with it keeps its id.
 *
 * <p>Thread-safety: thread-safe.
 */
final class TestKeys {
  private static final Map<String, ServerKey> KEYS = new ConcurrentHashMap<>();
  private static final Map<String, ServerKey> BY_ID = new ConcurrentHashMap<>();

  private TestKeys() {}

  /** The key named {@code nameOrId}, or the one whose server id it is. */
  static ServerKey key(String nameOrId) {
    ServerKey known = BY_ID.get(nameOrId);
    if (known != null) {
      return known;
    }
    return KEYS.computeIfAbsent(nameOrId, n -> {
      ServerKey k = ServerKey.generate();
      BY_ID.put(k.serverId(), k);
      return k;
    });
  }

  /** The proven server id of {@link #key(String) key(name)}. */
  static String id(String name) {
    return key(name).serverId();
  }
}
