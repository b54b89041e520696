package io.pbj.samples.world;

import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The world-server's own record of its world, in a snapshot store file in its {@code --store}
 * folder: each object's state and version, and which server id the world belongs to. A server
 * restarted on the same folder offers the same states at the same versions, so its clients'
 * caches stay valid.
 *
 * <p>The world record is written last, after every object is committed, so a server killed
 * while making a new world starts a new one next time rather than serving half of it.
 *
 * <pre>{@code
 * try (WorldArchive archive = WorldArchive.open(dir)) {
 *   Optional<WorldArchive.Saved> saved = archive.load();
 *   ...
 *   archive.saveWorld(key.serverId(), world.objects().values());
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe (the store is); saving from two threads at once is not useful.
 */
final class WorldArchive implements AutoCloseable {
  /** The file inside the {@code --store} folder. */
  static final String FILE = "world.db";

  private static final String ORIGIN = "world-server";
  private static final String OBJECTS = "objects";
  private static final String META = "meta";
  private static final SnapshotKey WORLD_RECORD =
      new SnapshotKey(ORIGIN, WorldModel.SERVICE, META, "world");
  private static final int BATCH = 1000;

  /** A world read back, with the server id it was saved under. */
  record Saved(String serverId, World world) {}

  private final SnapshotStore store;
  private final Path file;

  private WorldArchive(SnapshotStore store, Path file) {
    this.store = store;
    this.file = file;
  }

  /** Opens (creating if needed) the archive in {@code dir}; fails if another process has it. */
  static WorldArchive open(Path dir) {
    Path file = dir.resolve(FILE);
    return new WorldArchive(SnapshotStore.builder().path(file).build(), file);
  }

  /**
   * The saved world, or empty when none was saved completely (a new folder, or a server killed
   * while saving its first world: the partial objects are removed).
   *
   * @throws IllegalStateException if objects of a saved world are missing or unreadable
   */
  Optional<Saved> load() {
    Optional<Snapshot> record = store.get(WORLD_RECORD);
    List<SnapshotEntry> entries = store.list(SnapshotPrefix.of(ORIGIN, WorldModel.SERVICE, OBJECTS));
    if (record.isEmpty()) {
      entries.forEach(e -> store.remove(e.key()));
      store.flush();
      return Optional.empty();
    }
    Map<String, String> fields = parse(new String(record.get().state(), StandardCharsets.UTF_8));
    String serverId = fields.get("server-id");
    int expected = Integer.parseInt(fields.getOrDefault("objects", "-1"));
    List<WorldObject<?>> objects = new ArrayList<>(entries.size());
    for (SnapshotEntry e : entries) {
      Optional<Snapshot> s = store.get(e.key());
      if (s.isEmpty()) {
        continue;
      }
      objects.add(WorldObject.restore(
          e.key().identity(), s.get().version(), s.get().state(), s.get().formatVersion()));
    }
    if (serverId == null || objects.size() != expected) {
      throw new IllegalStateException(
          file + " holds " + objects.size() + " readable objects of a world of " + expected
              + "; move it away to make a new world");
    }
    return Optional.of(new Saved(serverId, World.of(objects)));
  }

  /** Saves a whole new world under {@code serverId}: every object, then the world record. */
  void saveWorld(String serverId, Collection<WorldObject<?>> objects) {
    save(objects);
    putCommitted(Map.of(WORLD_RECORD, Snapshot.of(1, 1,
        ("server-id=" + serverId + "\nobjects=" + objects.size() + "\n")
            .getBytes(StandardCharsets.UTF_8))));
  }

  /** Saves the current state and version of {@code objects}, committed when it returns. */
  void save(Collection<WorldObject<?>> objects) {
    Map<SnapshotKey, Snapshot> batch = new HashMap<>();
    for (WorldObject<?> o : objects) {
      Snapshot s;
      synchronized (o) {
        s = Snapshot.of(o.version(), StateCodec.FORMAT, o.encodedState());
      }
      batch.put(new SnapshotKey(ORIGIN, WorldModel.SERVICE, OBJECTS, o.identity()), s);
      if (batch.size() == BATCH) {
        putCommitted(batch);
        batch.clear();
      }
    }
    putCommitted(batch);
  }

  /** Writes one batch and waits for its commit; a dropped batch would lose the world. */
  private void putCommitted(Map<SnapshotKey, Snapshot> batch) {
    if (batch.isEmpty()) {
      return;
    }
    long dropped = store.stats().droppedWrites();
    store.putAll(Map.copyOf(batch));
    store.flush();
    if (store.stats().droppedWrites() != dropped) {
      throw new IllegalStateException("the store at " + file + " dropped a batch of the world");
    }
  }

  private static Map<String, String> parse(String text) {
    Map<String, String> fields = new HashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        fields.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return fields;
  }

  @Override
  public void close() {
    store.close();
  }
}
