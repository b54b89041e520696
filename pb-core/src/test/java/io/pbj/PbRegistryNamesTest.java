package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.strings;

import org.junit.jupiter.api.Test;

/** Registration by stable name: ids from names, what is refused and how it is said. */
class PbRegistryNamesTest {
  record Score(String player, int points) {}

  record Badge(String title) {}

  public static final class Board implements Cacheable {
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return "state";
    }
  }

  public static final class BoardCache extends RemoteCache {
    @Override
    protected void setState(Object state) {}
  }

  /** Golden: the algorithm of docs/PROTOCOL.md; a change here changes every named id. */
  @Test
  void theIdOfANameIsTheDocumentedHashOfIt() {
    assertThat(PbRegistry.idOf("lobby.Score")).isEqualTo(682934);
    assertThat(PbRegistry.builder().register("lobby.Score", Score.class).build().valueTypes())
        .containsEntry(682934, Score.class);
  }

  @Test
  void everyNameMapsToAnIdInTheNamedRangeThatTakesThreeVarintBytes() {
    qt().forAll(strings().allPossible().ofLengthBetween(1, 40))
        .checkAssert(
            name -> {
              int id = PbRegistry.idOf(name);
              assertThat(id).isGreaterThanOrEqualTo(PbRegistry.FIRST_NAMED_ID);
              assertThat(id + 2).as("Kryo writes the id plus 2").isLessThan(1 << 21);
            });
  }

  @Test
  void theOrderOfRegistrationDoesNotChangeAnyId() {
    PbRegistry a =
        PbRegistry.builder()
            .register("lobby.Score", Score.class)
            .register("lobby.Badge", Badge.class)
            .registerCache("lobby.Board", Board.class)
            .build();
    PbRegistry b =
        PbRegistry.builder()
            .registerCache("lobby.Board", Board.class)
            .register("lobby.Badge", Badge.class)
            .register("lobby.Score", Score.class)
            .build();

    assertThat(a.names()).isEqualTo(b.names());
    assertThat(a.valueTypes()).containsAllEntriesOf(b.valueTypes());
    assertThat(a.cacheIdOf(Board.class)).isEqualTo(b.cacheIdOf(Board.class));
  }

  @Test
  void twoNamesWithOneIdAreRefusedNamingBothNamesAndClasses() {
    String[] pair = CompatibilityTest.collidingNames();
    PbRegistry.Builder b = PbRegistry.builder().register(pair[0], Score.class);

    assertThatThrownBy(() -> b.register(pair[1], Badge.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(
            "names \"" + pair[0] + "\" (" + Score.class.getName() + ") and \"" + pair[1] + "\" ("
                + Badge.class.getName() + ") both map to id " + PbRegistry.idOf(pair[0]));
    assertThatThrownBy(() -> b.registerCache(pair[1], BoardCache.class))
        .hasMessageContaining("both map to id");
  }

  @Test
  void aNameOrAClassRegisteredTwiceIsRefused() {
    PbRegistry.Builder b = PbRegistry.builder().register("lobby.Score", Score.class);

    assertThatThrownBy(() -> b.register("lobby.Score", Badge.class))
        .hasMessageContaining("name \"lobby.Score\" is already registered for " + Score.class.getName());
    assertThatThrownBy(() -> b.register("lobby.Points", Score.class))
        .hasMessageContaining(Score.class.getName() + " is already registered");
  }

  @Test
  void badNamesAreRefusedSayingWhy() {
    assertThatThrownBy(() -> PbRegistry.builder().register("", Score.class))
        .hasMessageContaining("must have 1 to " + PbRegistry.MAX_NAME_LENGTH + " characters");
    assertThatThrownBy(
            () -> PbRegistry.builder().register("x".repeat(PbRegistry.MAX_NAME_LENGTH + 1), Score.class))
        .hasMessageContaining("it has " + (PbRegistry.MAX_NAME_LENGTH + 1));
    assertThatThrownBy(() -> PbRegistry.builder().register("lobby score", Score.class))
        .hasMessageContaining("has the character ' ' at 5");
    assertThatThrownBy(() -> PbRegistry.builder().register(null, Score.class))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("name");
  }

  @Test
  void registerCacheTakesEitherSideAndPairsTheTwoByName() {
    PbRegistry server = PbRegistry.builder().registerCache("lobby.Board", Board.class).build();
    PbRegistry client = PbRegistry.builder().registerCache("lobby.Board", BoardCache.class).build();
    PbRegistry both =
        PbRegistry.builder()
            .registerCache("lobby.Board", BoardCache.class)
            .registerCache("lobby.Board", Board.class)
            .build();
    int id = PbRegistry.idOf("lobby.Board");

    assertThat(server.cacheTypes()).containsEntry(id, new PbRegistry.CacheType(Board.class, null));
    assertThat(client.cacheTypes()).containsEntry(id, new PbRegistry.CacheType(null, BoardCache.class));
    assertThat(both.cacheTypes()).containsEntry(id, new PbRegistry.CacheType(Board.class, BoardCache.class));
    assertThat(both.names()).containsEntry(id, "lobby.Board");
    assertThat(client.cacheIdOf(Board.class)).isNull();
  }

  @Test
  void registerCacheRefusesASideTwiceAndAClassOfNeitherKind() {
    PbRegistry.Builder b = PbRegistry.builder().registerCache("lobby.Board", BoardCache.class);

    assertThatThrownBy(() -> b.registerCache("lobby.Board", BoardCache.class))
        .hasMessageContaining("cache \"lobby.Board\" already has its RemoteCache class");
    assertThatThrownBy(() -> b.registerCache("lobby.Score", Score.class))
        .hasMessageContaining(Score.class.getName() + " is neither a Cacheable nor a RemoteCache");
    assertThatThrownBy(() -> b.register("lobby.Board", Badge.class))
        .hasMessageContaining("name \"lobby.Board\" is already registered");
  }

  @Test
  @SuppressWarnings("deprecation")
  void positionalAndNamedRegistrationsMixWithoutSharingIds() {
    PbRegistry r =
        PbRegistry.builder().register(Badge.class).register("lobby.Score", Score.class).build();

    assertThat(r.valueTypes()).containsEntry(PbRegistry.FIRST_USER_ID, Badge.class);
    assertThat(r.names()).containsEntry(PbRegistry.FIRST_USER_ID, Badge.class.getName());
    assertThat(r.isNamed(PbRegistry.FIRST_USER_ID)).isFalse();
    assertThat(r.isNamed(PbRegistry.idOf("lobby.Score"))).isTrue();
    // a positional id after a named one continues the positional ids
    assertThat(r.toBuilder().register(Score[].class).build().valueTypes())
        .containsEntry(PbRegistry.FIRST_USER_ID + 1, Score[].class);
    assertThatThrownBy(() -> PbRegistry.builder().register(Badge.class, PbRegistry.FIRST_NAMED_ID))
        .hasMessageContaining("id " + PbRegistry.FIRST_NAMED_ID + " for " + Badge.class.getName())
        .hasMessageContaining("ids are derived from names");
  }

  @Test
  void toBuilderKeepsNames() {
    PbRegistry r = PbRegistry.builder().register("lobby.Score", Score.class).build();

    PbRegistry more = r.toBuilder().register("lobby.Badge", Badge.class).build();

    assertThat(more.names()).containsEntry(PbRegistry.idOf("lobby.Score"), "lobby.Score");
    assertThat(more.isNamed(PbRegistry.idOf("lobby.Score"))).isTrue();
    assertThat(more.nameOf(Badge.class)).isEqualTo("lobby.Badge");
  }
}
