package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The rules of docs/COMPATIBILITY.md, one test each (the protocol version rules are in {@code
 * internal.HandshakeHandlerTest}): a server and a client in one JVM whose registries differ as
 * two versions of one application would, over the in-process transport.
 */
class CompatibilityTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  // ---- version 2 of the server: Score, plus Badge and a Trophy cache it added ----

  public record Score(String player, int points) {}

  /** Added in version 2: old clients do not know it. */
  public record Badge(String title) {}

  public static final class Scoreboard implements Cacheable {
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return List.of("ada 3", "bob 2");
    }
  }

  /** A cache added in version 2. */
  public static final class Trophy implements Cacheable {
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return "gold";
    }
  }

  // ---- the client's own classes: none of the server's ----

  /** The client's class for "lobby.Score": another class, same shape. */
  public record ClientScore(String player, int points) {}

  /** An old client's "lobby.Score", from before the server added a component. */
  public record OldScore(String player) {}

  /** A type only a newer client has. */
  public record Emote(String name) {}

  public static final class ClientScoreboard extends RemoteCache {
    final List<String> entries = new CopyOnWriteArrayList<>();

    @Override
    @SuppressWarnings("unchecked")
    protected void setState(Object state) {
      entries.addAll((List<String>) state);
    }
  }

  /** The server's root: hands out values and caches of every kind. */
  public static final class Lobby implements Referenceable {
    final Scoreboard board = new Scoreboard();
    final Trophy trophy = new Trophy();
    final List<Object> received = new CopyOnWriteArrayList<>();

    @Remote
    public Score score() {
      return new Score("ada", 3);
    }

    @Remote
    public Badge badge() {
      return new Badge("first win");
    }

    @Remote
    public Scoreboard board() {
      return board;
    }

    @Remote
    public Trophy trophy() {
      return trophy;
    }

    @Remote
    public String take(Object value) {
      received.add(value);
      return value.getClass().getSimpleName();
    }
  }

  static PbRegistry serverV2() {
    return PbRegistry.builder()
        .register("lobby.Score", Score.class)
        .registerCache("lobby.Scoreboard", Scoreboard.class)
        .register("lobby.Badge", Badge.class)
        .registerCache("lobby.Trophy", Trophy.class)
        .build();
  }

  /** Version 1 of the client: registers in another order, and only its own classes. */
  static PbRegistry clientV1() {
    return PbRegistry.builder()
        .registerCache("lobby.Scoreboard", ClientScoreboard.class)
        .register("lobby.Score", ClientScore.class)
        .build();
  }

  private final Lobby lobby = new Lobby();

  private RemoteReference connect(PbRegistry server, PbRegistry client) {
    PbServer s =
        cleanup.register(serverBuilder().root(lobby).registry(server).build().start());
    return client(s, b -> b.registry(client)).rootObject().join();
  }

  private static PbException pbFailure(java.util.concurrent.CompletableFuture<?> f) {
    Throwable t = failureOf(f);
    assertThat(t).isInstanceOf(PbException.class);
    return (PbException) t;
  }

  @Test
  void registrationOrderDoesNotMatterAndTheClientUsesItsOwnClassForAName() throws Exception {
    RemoteReference root = connect(serverV2(), clientV1());

    assertThat(get(root.callRemote("score"))).isEqualTo(new ClientScore("ada", 3));
    assertThat(get(root.callRemote("take", new ClientScore("bob", 2)))).isEqualTo("Score");
    assertThat(lobby.received).containsExactly(new Score("bob", 2));
  }

  @Test
  void aClientWithOnlyItsRemoteCacheClassReceivesTheCache() throws Exception {
    assertThat(clientV1().cacheIdOf(Scoreboard.class)).as("the client lacks the server's class").isNull();
    RemoteReference root = connect(serverV2(), clientV1());

    Object board = get(root.callRemote("board"));

    assertThat(board).isInstanceOf(ClientScoreboard.class);
    assertThat(((ClientScoreboard) board).entries).containsExactly("ada 3", "bob 2");
  }

  @Test
  void aValueOfATypeTheClientLacksFailsThatCallNamingTheTypeAndTheConnectionGoesOn()
      throws Exception {
    RemoteReference root = connect(serverV2(), clientV1());

    PbException e = pbFailure(root.callRemote("badge"));

    assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(e).hasMessageContaining("the peer does not register \"lobby.Badge\"");
    assertThat(get(root.callRemote("score"))).isEqualTo(new ClientScore("ada", 3));
  }

  @Test
  void aCacheTheClientLacksFailsThatCallNamingItAndTheConnectionGoesOn() throws Exception {
    RemoteReference root = connect(serverV2(), clientV1());

    PbException e = pbFailure(root.callRemote("trophy"));

    assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(e).hasMessageContaining("the peer does not register \"lobby.Trophy\"");
    assertThat(get(root.callRemote("board"))).isInstanceOf(ClientScoreboard.class);
  }

  @Test
  void aNewerClientSendingATypeTheServerLacksFailsBeforeSendingNamingTheType() throws Exception {
    PbRegistry clientV3 = clientV1().toBuilder().register("lobby.Emote", Emote.class).build();
    RemoteReference root = connect(serverV2(), clientV3);

    PbException e = pbFailure(root.callRemote("take", new Emote("wave")));

    assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(e).hasMessageContaining("the peer does not register \"lobby.Emote\"");
    assertThat(lobby.received).isEmpty();
    assertThat(get(root.callRemote("take", new ClientScore("cy", 1)))).isEqualTo("Score");
  }

  @Test
  void removingATypeFromTheServerFailsOnlyValuesOfThatType() throws Exception {
    PbRegistry serverWithoutScore =
        PbRegistry.builder().registerCache("lobby.Scoreboard", Scoreboard.class).build();
    RemoteReference root = connect(serverWithoutScore, clientV1());

    PbException e = pbFailure(root.callRemote("take", new ClientScore("ada", 1)));

    assertThat(e).hasMessageContaining("the peer does not register \"lobby.Score\"");
    assertThat(get(root.callRemote("board"))).isInstanceOf(ClientScoreboard.class);
  }

  @Test
  void renamingTheStableNameOnOneSideIsRemovingOneTypeAndAddingAnother() throws Exception {
    PbRegistry renamed =
        PbRegistry.builder()
            .register("lobby.Points", Score.class)
            .registerCache("lobby.Scoreboard", Scoreboard.class)
            .build();
    RemoteReference root = connect(renamed, clientV1());

    assertThat(pbFailure(root.callRemote("score")))
        .hasMessageContaining("the peer does not register \"lobby.Points\"");
  }

  @Test
  void aRecordWhoseComponentsChangedFailsItsValuesNamingTheTypeNotTheConnection()
      throws Exception {
    PbRegistry oldClient =
        PbRegistry.builder()
            .register("lobby.Score", OldScore.class)
            .registerCache("lobby.Scoreboard", ClientScoreboard.class)
            .build();
    RemoteReference root = connect(serverV2(), oldClient);

    PbException e = pbFailure(root.callRemote("score"));

    assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(e).hasMessageContaining("\"lobby.Score\" has another shape on the peer");
    assertThat(get(root.callRemote("board"))).isInstanceOf(ClientScoreboard.class);
  }

  @Test
  void twoNamesThatShareAnIdAcrossTheSidesFailTheirValuesNamingBoth() throws Exception {
    String[] pair = collidingNames();
    PbRegistry server =
        PbRegistry.builder().register(pair[0], Score.class).build();
    PbRegistry client =
        PbRegistry.builder().register(pair[1], ClientScore.class).build();
    RemoteReference root = connect(server, client);

    PbException e = pbFailure(root.callRemote("score"));

    assertThat(e)
        .hasMessageContaining(
            "is \"" + pair[0] + "\" here but \"" + pair[1] + "\" on the peer");
    assertThat(get(root.callRemote("take", "still open"))).isEqualTo("String");
  }

  @Test
  void formatOfANamedTypeIgnoresItsClassNameAndFollowsItsComponents() {
    int server = PbCodec.of(serverV2()).formatOf(Score.class);

    assertThat(PbCodec.of(clientV1()).formatOf(ClientScore.class)).isEqualTo(server);
    assertThat(
            PbCodec.of(PbRegistry.builder().register("lobby.Score", OldScore.class).build())
                .formatOf(OldScore.class))
        .isNotEqualTo(server);
    assertThat(
            PbCodec.of(PbRegistry.builder().register("lobby.Points", Score.class).build())
                .formatOf(Score.class))
        .as("the name is part of the format")
        .isNotEqualTo(server);
  }

  @Test
  @SuppressWarnings("deprecation")
  void positionalRegistriesThatDisagreeStillFailTheConnection() {
    PbServer s =
        cleanup.register(
            serverBuilder()
                .root(lobby)
                .registry(PbRegistry.builder().register(Score.class).build())
                .build()
                .start());
    PbClient c = client(s, b -> b.registry(PbRegistry.builder().register(Badge.class).build()));

    assertThatThrownBy(() -> c.rootObject().join())
        .hasCauseInstanceOf(PbException.class)
        .cause()
        .hasMessageContaining(
            "id 100 is " + Badge.class.getName() + " here but " + Score.class.getName());
  }

  /** Two stable names with the same id: found by trying names until two collide. */
  static String[] collidingNames() {
    Map<Integer, String> seen = new HashMap<>();
    for (int i = 0; ; i++) {
      String name = "t." + i;
      String other = seen.putIfAbsent(PbRegistry.idOf(name), name);
      if (other != null) {
        return new String[] {other, name};
      }
    }
  }
}
