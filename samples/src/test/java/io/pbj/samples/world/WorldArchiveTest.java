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
}
