package io.pbj.samples.world;

import io.pbj.PbException;
import io.pbj.samples.world.WorldModel.Kind;
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
 * folder: each object's state (pb-core's encoding of its record, under the format of the
 * record's shape) and version, and the world record (server id, object count, the next house and
 * item numbers, whether the last run stopped cleanly). A server restarted on the same folder
 * offers the same states at the same versions, so its clients' caches stay valid.
 *
 * <p>The world record is written last when a world is made, after every object is committed, so
 * a server killed while making a new world starts a new one next time rather than serving half
 * of it. A live world ({@code --live}) is saved as it changes ({@link #saveLive}): each save is
 * one atomic batch of the changed objects, a tombstone (an empty state) for each removed one,
 * and the world record, so the count always matches. A live world not stopped cleanly may have
 * lost its last changes after clients saw them: the next start moves every version and the
 * first version of new objects on by {@value #LOST_SAVE_VERSION_STEP}, so no client ever takes
 * a lost change for a saved one (it refetches instead).
 *
 * <pre>{@code
 * try (WorldArchive archive = WorldArchive.open(dir)) {
 *   Optional<WorldArchive.Saved> saved = archive.load();
 *   ...
 *   archive.saveWorld(key.serverId(), world);
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe (the store is); saving from two threads at once is not useful.
 */
final class WorldArchive implements AutoCloseable {
  /** The file inside the {@code --store} folder. */
  static final String FILE = "world.db";

  /** How far versions move on after a live world was not stopped cleanly. */
  static final long LOST_SAVE_VERSION_STEP = 1L << 32;

  private static final String ORIGIN = "world-server";
  private static final String OBJECTS = "objects";
  private static final String META = "meta";
  private static final SnapshotKey WORLD_RECORD =
      new SnapshotKey(ORIGIN, WorldModel.SERVICE, META, "world");
  private static final int BATCH = 1000;
  private static final byte[] TOMBSTONE = new byte[0];

  /**
   * A world read back, with the server id it was saved under.
   *
   * @param lostSave whether the last run did not stop cleanly (versions were moved on)
   */
  record Saved(String serverId, World world, boolean lostSave) {}

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
    int expected = number(fields, "objects", -1);
    boolean lost = "false".equals(fields.get("clean"));
    long epoch = number(fields, "epoch", 0) + (lost ? 1 : 0);
    long step = lost ? LOST_SAVE_VERSION_STEP : 0;
    List<WorldObject<?>> objects = new ArrayList<>(entries.size());
    for (SnapshotEntry e : entries) {
      Optional<Snapshot> s = store.get(e.key());
      if (s.isEmpty()) {
        continue;
      }
      if (s.get().state().length == 0) {
        store.remove(e.key());    // a removed object's tombstone: its record says it is gone
        continue;
      }
      objects.add(restore(e.key().identity(), s.get().version() + step, s.get().state(),
          s.get().formatVersion()));
    }
    if (serverId == null || objects.size() != expected) {
      throw new IllegalStateException(
          file + " holds " + objects.size() + " readable objects of a world of " + expected
              + "; move it away to make a new world");
    }
    World world = World.of(objects, number(fields, "next-house", 0), number(fields, "next-item", 0));
    world.firstVersion(epoch * LOST_SAVE_VERSION_STEP + 1);
    if (lost) {
      // Saved at once (in batches the store's write queue takes, then the record that says they
      // are stepped), so a second crash before the first save does not step them twice.
      save(objects);
      putCommitted(withRecord(new HashMap<>(), serverId, world, true, epoch));
    }
    return Optional.of(new Saved(serverId, world, lost));
  }

  /** The object of the right kind for a stored state, version and format. */
  static WorldObject<?> restore(String identity, long version, byte[] bytes, int format) {
    Kind kind = Kind.of(identity);
    int expected = WorldModel.formatOf(kind);
    if (format != expected) {
      throw new IllegalStateException(identity + " is stored in format " + format + "; this build"
          + " reads format " + expected + " (the shape of " + kind.stateClass.getSimpleName()
          + " changed): move the folder away to make a new world");
    }
    WorldState state;
    try {
      state = WorldModel.codec().decode(bytes, kind.stateClass);
    } catch (PbException | IllegalArgumentException e) {
      throw new IllegalStateException(identity + " cannot be read: " + e.getMessage(), e);
    }
    WorldObject<?> o = WorldObject.of(state, version);
    if (!o.identity().equals(identity)) {
      throw new IllegalStateException("state stored as " + identity + " is " + o.identity());
    }
    return o;
  }

  /** Saves a whole new world under {@code serverId}: every object, then the world record. */
  void saveWorld(String serverId, World world) {
    Collection<WorldObject<?>> objects = world.objects().values();
    save(objects);
    putCommitted(withRecord(new HashMap<>(), serverId, world, true, 0));
  }

  /** Saves the current state and version of {@code objects}, committed when it returns. */
  void save(Collection<WorldObject<?>> objects) {
    Map<SnapshotKey, Snapshot> batch = new HashMap<>();
    for (WorldObject<?> o : objects) {
      batch.put(key(o.identity()), snapshot(o));
      if (batch.size() == BATCH) {
        putCommitted(batch);
        batch.clear();
      }
    }
    putCommitted(batch);
  }

  /**
   * Saves what a live world changed, in one atomic batch: the current state of {@code changed}
   * (objects removed meanwhile are skipped), a tombstone for each of {@code removed}, and the
   * world record with {@code clean} (false while the world runs, true at a clean stop).
   */
  void saveLive(String serverId, World world, Collection<WorldObject<?>> changed,
      Collection<String> removed, boolean clean) {
    Map<SnapshotKey, Snapshot> batch = new HashMap<>();
    for (String id : removed) {
      batch.put(key(id), Snapshot.of(0, 0, TOMBSTONE));
    }
    for (WorldObject<?> o : changed) {
      if (world.get(o.identity()) == o) {
        batch.put(key(o.identity()), snapshot(o));
      }
    }
    long epoch = (world.firstVersion() - 1) / LOST_SAVE_VERSION_STEP;
    putCommitted(withRecord(batch, serverId, world, clean, epoch));
  }

  private static Map<SnapshotKey, Snapshot> withRecord(Map<SnapshotKey, Snapshot> batch,
      String serverId, World world, boolean clean, long epoch) {
    batch.put(WORLD_RECORD, Snapshot.of(1, 1, ("server-id=" + serverId
        + "\nobjects=" + world.size()
        + "\nnext-house=" + world.nextHouseId()
        + "\nnext-item=" + world.nextItemId()
        + "\nepoch=" + epoch
        + "\nclean=" + clean + "\n").getBytes(StandardCharsets.UTF_8)));
    return batch;
  }

  private static SnapshotKey key(String identity) {
    return new SnapshotKey(ORIGIN, WorldModel.SERVICE, OBJECTS, identity);
  }

  private static Snapshot snapshot(WorldObject<?> o) {
    WorldObject.Versioned<? extends WorldState> v = o.versioned();
    return Snapshot.of(v.version(), WorldModel.formatOf(Kind.of(o.identity())), v.state().encode());
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

  private static int number(Map<String, String> fields, String name, int otherwise) {
    String v = fields.get(name);
    return v == null ? otherwise : Integer.parseInt(v);
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
