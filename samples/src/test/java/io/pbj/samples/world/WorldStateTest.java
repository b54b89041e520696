package io.pbj.samples.world;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The world's state encodings: what the server publishes, the client decodes back. */
class WorldStateTest {
  private final List<WorldObject<?>> world = new WorldGenerator(7).generate(400);

  private static WorldState decode(WorldObject<?> o, byte[] bytes) {
    return switch (WorldModel.Kind.of(o.identity())) {
      case CHUNK -> ChunkState.decode(bytes, StateCodec.FORMAT);
      case HOUSE -> HouseState.decode(bytes, StateCodec.FORMAT);
      case ITEM -> ItemState.decode(bytes, StateCodec.FORMAT);
    };
  }

  @Test
  void everyStateDecodesToItself() {
    for (WorldObject<?> o : world) {
      assertThat(decode(o, o.encodedState())).as(o.identity()).isEqualTo(o.state());
    }
  }

  @Test
  void identitiesAreShortAndStatesAboutAKibibyteOnAverage() {
    assertThat(world).extracting(WorldObject::identity)
        .contains("c:0:0", "c:9:9", "h:0", "h:139", "i:0")
        .allMatch(id -> id.length() <= 8);
    double average = world.stream().mapToInt(o -> o.encodedState().length).average().orElse(0);
    assertThat(average).isGreaterThan(1000);
  }

  @Test
  void truncatedOrForeignStatesAreRefused() {
    for (WorldObject<?> o : List.of(world.get(0), world.get(150), world.get(399))) {
      byte[] bytes = o.encodedState();
      assertThatThrownBy(() -> decode(o, Arrays.copyOf(bytes, bytes.length - 1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> decode(o, Arrays.copyOf(bytes, bytes.length + 1)))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> decode(o, "t:grass".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThatThrownBy(() -> ItemState.decode(world.get(399).encodedState(), 2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("format 2");
  }

  @Test
  void aChangeAlwaysChangesTheStateAndBumpsTheVersion() {
    Random random = new Random(3);
    for (WorldObject<?> o : world) {
      byte[] before = o.encodedState();
      long version = o.version();
      o.changeRandomly(random, 10 * ChunkState.SIZE);
      assertThat(o.encodedState()).as(o.identity()).isNotEqualTo(before);
      assertThat(o.version()).isEqualTo(version + 1);
    }
  }

  @Test
  void theSameSeedMakesTheSameWorld() {
    List<WorldObject<?>> again = new WorldGenerator(7).generate(400);
    for (int i = 0; i < world.size(); i++) {
      assertThat(again.get(i).encodedState()).isEqualTo(world.get(i).encodedState());
    }
  }
}
