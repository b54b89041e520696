package io.pbj.bench.publish;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The ways of reactivating the published objects that the benchmark compares.
 *
 * <p>Thread-safety: immutable.
 */
enum Strategy {
  /** PBJ, {@code Mode.INVENTORY}: stored versions go with the attach; stale states come inline. */
  INVENTORY("inventory", "PBJ inventory", true),
  /** PBJ, {@code Mode.VERSIONS}: versions in the answer, one batched fetch of the stale objects. */
  VERSIONS("versions", "PBJ versions", true),
  /** An ordinary pb-core Cacheable per object: full state every session, no store. */
  PLAIN("plain", "plain Cacheable", false),
  /** Versions in the answer, then one fetch call per stale object, as Twisted's publish.py. */
  PER_OBJECT("per-object", "per-object fetch (publish.py)", true);

  private final String id;
  private final String label;
  private final boolean usesStore;

  Strategy(String id, String label, boolean usesStore) {
    this.id = id;
    this.label = label;
    this.usesStore = usesStore;
  }

  /** The name on the command line. */
  String id() {
    return id;
  }

  /** The name in the report. */
  String label() {
    return label;
  }

  /** Whether the client keeps a snapshot store across sessions. */
  boolean usesStore() {
    return usesStore;
  }

  /** Whether the speed targets apply (the PBJ publishing modes). */
  boolean hasTargets() {
    return this == INVENTORY || this == VERSIONS;
  }

  static Strategy byId(String id) {
    for (Strategy s : values()) {
      if (s.id.equals(id)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown strategy '" + id + "'; known: inventory, versions, plain, per-object");
  }

  /** Parses a comma-separated list of ids, keeping the order given and dropping repeats. */
  static List<Strategy> parseList(String value) {
    Set<Strategy> strategies = new LinkedHashSet<>();
    for (String id : value.split(",")) {
      strategies.add(byId(id.trim()));
    }
    return new ArrayList<>(strategies);
  }
}
