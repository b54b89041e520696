package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbException;
import io.pbj.samples.world.ChunkState.Terrain;
import io.pbj.samples.world.WorldModel.Kind;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The world's typed states: registered records pb-core encodes (no codec of the sample's own),
 * and the deltas chunks and items change by.
 */
class WorldStateTest {
  private final List<WorldObject<?>> world = new WorldGenerator(7).generate(400);

  private static WorldState decode(WorldObject<?> o, byte[] bytes) {
    return WorldModel.codec().decode(bytes, Kind.of(o.identity()).stateClass);
  }

  @Test
  void everyStateDecodesToItself() {
    for (WorldObject<?> o : world) {
      assertThat(decode(o, o.state().encode())).as(o.identity()).isEqualTo(o.state());
    }
  }

  @Test
  void identitiesAreShortAndStatesAboutAKibibyteOnAverage() {
    assertThat(world).extracting(WorldObject::identity)
        .contains("c:0:0", "c:9:9", "h:0", "h:139", "i:0")
        .allMatch(id -> id.length() <= 8);
    double average = world.stream().mapToInt(o -> o.state().encode().length).average().orElse(0);
    assertThat(average).isGreaterThan(900);
  }

  @Test
  void eachKindHasItsOwnFormatDerivedFromItsShape() {
    assertThat(WorldModel.formatOf(Kind.CHUNK))
        .isNotEqualTo(WorldModel.formatOf(Kind.HOUSE))
        .isNotEqualTo(WorldModel.formatOf(Kind.ITEM))
        .isEqualTo(WorldModel.codec().formatOf(ChunkState.class));
  }

  @Test
  void truncatedOrForeignStatesAreRefused() {
    for (WorldObject<?> o : List.of(world.get(0), world.get(150), world.get(399))) {
      byte[] bytes = o.state().encode();
      assertThatThrownBy(() -> decode(o, Arrays.copyOf(bytes, bytes.length - 1)))
          .isInstanceOf(PbException.class);
      assertThatThrownBy(() -> decode(o, "t:grass".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .isInstanceOf(PbException.class);
    }
    // Another kind's bytes are not this kind's state.
    assertThatThrownBy(() -> WorldModel.codec().decode(world.get(399).state().encode(), ChunkState.class))
        .isInstanceOf(PbException.class);
  }

  @Test
  void aDecodedStateIsCheckedLikeAConstructedOne() {
    assertThatThrownBy(() -> new ChunkState(0, 0, new byte[3], new byte[ChunkState.TILES]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1024 tiles");
    byte[] bad = new byte[ChunkState.TILES];
    bad[5] = 99;
    assertThatThrownBy(() -> new ChunkState(0, 0, bad, new byte[ChunkState.TILES]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown terrain 99");
  }

  @Test
  void aChunkStateIsImmutable() {
    ChunkState c = (ChunkState) world.get(0).state();
    byte[] t = c.terrain();
    t[0] = (byte) ((t[0] + 1) % Terrain.values().length);
    assertThat(c.terrain()[0]).isNotEqualTo(t[0]);
  }

  @Test
  void setTileChangesExactlyOneTile() {
    ChunkState c = (ChunkState) world.get(0).state();
    int index = ChunkState.index(3, 17);
    Terrain other = c.terrainAt(3, 17) == Terrain.ROAD ? Terrain.FIELD : Terrain.ROAD;
    ChunkState after = c.withTile(index, other.ordinal());
    assertThat(after.terrainAt(3, 17)).isEqualTo(other);
    byte[] before = c.terrain();
    byte[] now = after.terrain();
    int differing = 0;
    for (int i = 0; i < before.length; i++) {
      differing += before[i] != now[i] ? 1 : 0;
    }
    assertThat(differing).isEqualTo(1);
    assertThat(after.height()).isEqualTo(c.height());
    assertThatThrownBy(() -> c.withTile(ChunkState.TILES, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tile index 1024");
    assertThatThrownBy(() -> c.withTile(0, Terrain.values().length))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown terrain");
  }

  @Test
  void moveToMovesOnlyTheItem() {
    ItemState i = (ItemState) world.get(399).state();
    ItemState moved = i.movedTo(i.x() + 3, 7);
    assertThat(moved.x()).isEqualTo(i.x() + 3);
    assertThat(moved.y()).isEqualTo(7);
    assertThat(moved.movedTo(i.x(), i.y())).isEqualTo(i);
    assertThatThrownBy(() -> i.movedTo(-1, 0)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative coordinate");
  }

  @Test
  void aChangeAlwaysChangesTheStateAndBumpsTheVersion() {
    Random random = new Random(3);
    for (WorldObject<?> o : world) {
      WorldState before = o.state();
      long version = o.version();
      o.changeRandomly(random, 10 * ChunkState.SIZE);
      assertThat(o.state()).as(o.identity()).isNotEqualTo(before);
      assertThat(o.version()).isEqualTo(version + 1);
    }
  }

  @Test
  void theSameSeedMakesTheSameWorld() {
    List<WorldObject<?>> again = new WorldGenerator(7).generate(400);
    for (int i = 0; i < world.size(); i++) {
      assertThat(again.get(i).state().encode()).isEqualTo(world.get(i).state().encode());
    }
  }
}
