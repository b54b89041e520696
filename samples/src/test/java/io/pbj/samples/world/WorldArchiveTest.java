package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The world-server's own record of its world, across reopening. */
class WorldArchiveTest {
  @TempDir Path dir;

  @Test
  void aSavedWorldComesBackWithItsStatesVersionsAndServerId() {
    World world = World.generate(300, 5);
    List<WorldObject<?>> changed;
    try (WorldArchive archive = WorldArchive.open(dir)) {
      assertThat(archive.load()).isEmpty();
      archive.saveWorld("origin-7", world);
      changed = world.change(30, new Random(1));
      archive.save(changed);
    }
    try (WorldArchive archive = WorldArchive.open(dir)) {
      WorldArchive.Saved saved = archive.load().orElseThrow();
      assertThat(saved.serverId()).isEqualTo("origin-7");
      assertThat(saved.world().size()).isEqualTo(300);
      for (WorldObject<?> o : world.objects().values()) {
        WorldObject<?> back = saved.world().objects().get(o.identity());
        assertThat(back.version()).as(o.identity()).isEqualTo(o.version());
        assertThat(back.state()).as(o.identity()).isEqualTo(o.state());
      }
      assertThat(changed).allMatch(o -> saved.world().objects().get(o.identity()).version() == 2);
    }
  }

  @Test
  void objectsSavedWithoutTheWorldRecordAreAStartOver() {
    World world = World.generate(50, 5);
    try (WorldArchive archive = WorldArchive.open(dir)) {
      archive.save(world.objects().values());      // killed before the world record was written
    }
    try (WorldArchive archive = WorldArchive.open(dir)) {
      assertThat(archive.load()).isEmpty();
    }
  }

  @Test
  void aLiveSaveKeepsNewAndRemovedObjectsAndAnUncleanStopStepsEveryVersionOnce() {
    World world = World.generate(100, 5);
    WorldObject<?> spawned;
    List<WorldObject<?>> changed;
    try (WorldArchive archive = WorldArchive.open(dir)) {
      archive.saveWorld("origin-7", world);
      assertThat(world.remove("i:0")).isNotNull();
      spawned = world.spawn(WorldModel.Kind.ITEM, new Random(2));
      changed = new java.util.ArrayList<>(world.change(5, new Random(3)));
      changed.add(spawned);
      archive.saveLive("origin-7", world, changed, List.of("i:0"), false);   // then killed
    }
    long step = WorldArchive.LOST_SAVE_VERSION_STEP;
    try (WorldArchive archive = WorldArchive.open(dir)) {
      WorldArchive.Saved saved = archive.load().orElseThrow();
      assertThat(saved.lostSave()).isTrue();
      World back = saved.world();
      assertThat(back.size()).isEqualTo(world.size());
      assertThat(back.get("i:0")).as("removed: its tombstone is not an object").isNull();
      assertThat(back.nextItemId()).as("a removed number is not used again")
          .isEqualTo(world.nextItemId());
      assertThat(back.firstVersion()).isEqualTo(step + 1);
      for (WorldObject<?> o : world.objects().values()) {
        assertThat(back.get(o.identity()).state()).as(o.identity()).isEqualTo(o.state());
        assertThat(back.get(o.identity()).version()).as(o.identity()).isEqualTo(o.version() + step);
      }
      assertThat(back.get(spawned.identity()).version()).isEqualTo(1 + step);
    }
    try (WorldArchive archive = WorldArchive.open(dir)) {
      WorldArchive.Saved saved = archive.load().orElseThrow();
      assertThat(saved.lostSave()).as("the stepped world was saved as clean").isFalse();
      assertThat(saved.world().get(spawned.identity()).version()).as("stepped once")
          .isEqualTo(1 + step);
    }
  }

  @Test
  void aStateStoredInAnotherFormatIsRefusedNamingTheObject() {
    World world = World.generate(20, 5);
    try (WorldArchive archive = WorldArchive.open(dir)) {
      archive.saveWorld("origin-7", world);
    }
    String id = world.objects().keySet().iterator().next();
    int format = WorldModel.formatOf(WorldModel.Kind.of(id));
    byte[] state = world.get(id).state().encode();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> WorldArchive.restore(id, 1, state, format + 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(id + " is stored in format " + (format + 1));
    assertThat(WorldArchive.restore(id, 4, state, format).state()).isEqualTo(world.get(id).state());
  }
}
