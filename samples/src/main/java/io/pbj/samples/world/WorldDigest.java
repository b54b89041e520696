package io.pbj.samples.world;

import io.pbj.publish.Attachment;
import io.pbj.publish.RemotePublished;
import io.pbj.samples.world.WorldModel.Kind;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A digest of a world, object by object: identity to {@code "VERSION SHA256"}, where the hash is
 * of pb-core's encoding of the object's state record ({@link WorldState#encode()}, what both
 * sides' stores keep). The server answers it ({@link WorldRoot#digest}); a client compares its
 * whole view and its store entries with it.
 *
 * <pre>{@code
 * Map<String, String> server = root.callRemote(Map.class, "digest", 5000).join();
 * WorldDigest.Comparison c = WorldDigest.compare(server, attachment, store);
 * assert c.mismatches() == 0;
 * }</pre>
 *
 * <p>Thread-safety: stateless.
 */
final class WorldDigest {
  private WorldDigest() {}

  /**
   * How a client's view and store compare with a server's digest.
   *
   * @param objects identities the server, the view or the store has
   * @param mismatches those whose view state, view version or store entry differs from the
   *     server's, or that one side has and the other not
   * @param examples up to five mismatches, each with what differed
   */
  record Comparison(int objects, int mismatches, List<String> examples) {}

  /** The digest of every object of {@code world}, each state and version read together. */
  static Map<String, String> of(World world) {
    Map<String, String> digest = new HashMap<>();
    for (WorldObject<?> o : world.objects().values()) {
      WorldObject.Versioned<? extends WorldState> v = o.versioned();
      digest.put(o.identity(), entry(v.version(), v.state().encode()));
    }
    return digest;
  }

  /** One object's digest entry. */
  static String entry(long version, byte[] encoded) {
    try {
      return version + " " + HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(encoded));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java has SHA-256", e);
    }
  }

  /** Whether the view holds exactly the server's identities, each at the server's version. */
  static boolean reached(Map<String, String> server, Attachment view) {
    Map<String, RemotePublished> objects = view.objects();
    if (objects.size() != server.size()) {
      return false;
    }
    for (Map.Entry<String, RemotePublished> e : objects.entrySet()) {
      String s = server.get(e.getKey());
      if (s == null || !s.startsWith(e.getValue().version() + " ")) {
        return false;
      }
    }
    return true;
  }

  /** Compares the view and the store entries of its service and perspective with the server's. */
  static Comparison compare(Map<String, String> server, Attachment view, SnapshotStore store) {
    Map<String, RemotePublished> objects = view.objects();
    SnapshotPrefix prefix =
        SnapshotPrefix.of(view.serverId(), view.service(), view.perspectiveKey());
    TreeSet<String> all = new TreeSet<>(server.keySet());
    all.addAll(objects.keySet());
    for (SnapshotEntry e : store.list(prefix)) {
      all.add(e.key().identity());
    }
    int mismatches = 0;
    List<String> examples = new ArrayList<>();
    for (String id : all) {
      String expected = server.get(id);
      String problem = null;
      RemotePublished r = objects.get(id);
      String shown = r == null ? null : viewEntry(r);
      String stored = storeEntry(store, id, new SnapshotKey(
          view.serverId(), view.service(), view.perspectiveKey(), id));
      if (expected == null) {
        problem = "the server does not publish it" + (r != null ? "; the view shows it" : "")
            + (stored != null ? "; the store keeps it" : "");
      } else if (shown == null) {
        problem = "missing from the view";
      } else if (!shown.equals(expected)) {
        problem = "the view holds " + shown + ", the server " + expected;
      } else if (stored == null) {
        problem = "missing from the store";
      } else if (!stored.equals(expected)) {
        problem = "the store holds " + stored + ", the server " + expected;
      }
      if (problem != null) {
        mismatches++;
        if (examples.size() < 5) {
          examples.add(id + ": " + problem);
        }
      }
    }
    return new Comparison(all.size(), mismatches, examples);
  }

  private static String viewEntry(RemotePublished r) {
    WorldState s = WorldModel.stateOf(r);
    return s == null ? "no state" : entry(r.version(), s.encode());
  }

  /** The stored entry as a digest entry; null if absent, "format N" if in another format. */
  private static String storeEntry(SnapshotStore store, String id, SnapshotKey key) {
    Optional<Snapshot> s = store.get(key);
    if (s.isEmpty()) {
      return null;
    }
    Kind kind;
    try {
      kind = Kind.of(id);
    } catch (IllegalArgumentException e) {
      return "not a world identity";
    }
    if (s.get().formatVersion() != WorldModel.formatOf(kind)) {
      return "format " + s.get().formatVersion();
    }
    return entry(s.get().version(), s.get().state());
  }
}
