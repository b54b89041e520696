package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The README's "Published objects" example, as written there: login plus a live published world
 * with a typed state and a delta, on one shared endpoint.
 */
class ReadmeExampleTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** The state: a registered record. */
  public record Tile(String terrain) {}

  /** Server side. */
  static final class TileObject extends Publishable {
    private String terrain;

    TileObject(String id, String terrain) {
      super(id, 1);
      this.terrain = terrain;
    }

    @Override
    protected synchronized Tile publishedState(Object perspective) {
      return new Tile(terrain);
    }

    synchronized void paint(String t) {
      terrain = t;
      republishDelta(version() + 1, "paint", t);    // RemoteTile.paint(t) runs on each client
    }
  }

  /** Client side. */
  public static final class RemoteTile extends RemoteValue<Tile> {
    @Remote
    public void paint(String t) {
      update(new Tile(t));
    }
  }

  /** The avatar: offers the world's one shared endpoint. */
  record Player(String name, PublishingService world) implements Referenceable {
    @Remote
    public Referenceable publishingEndpoint(String service) {
      return world.endpoint();
    }
  }

  @Test
  void loginThenALiveTypedWorldInAFewLines() {
    PbRegistry registry = Publishing.register(PbRegistry.builder()).register(Tile.class)
        .registerCache(TileObject.class, RemoteTile.class).build();

    // server
    PublishingService world = PublishingService.builder().serverKey(ServerKey.generate())
        .service("world").perspectiveKey(p -> ((Player) p).name()).build();
    TileObject tile = new TileObject("c:0:0", "grass");
    world.publish(tile);
    Portal portal = Portal.builder((id, mind, connection) ->
            CompletableFuture.completedFuture(Avatar.of(new Player(id.name(), world))))
        .checker(PasswordChecker.builder().user("alice", "secret").build()).build();
    PbServer server = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(registry).rootFactory(portal::root).build().start());

    // client
    PbClient client = cleanup.register(PbClient.builder().address("127.0.0.1", server.port())
        .registry(registry).build());
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    RemoteReference avatar = Login.login(client.rootObject().join(),
        Credentials.password("alice", "secret"), null).join();
    RemoteReference endpoint =
        avatar.callRemote(RemoteReference.class, "publishingEndpoint", "world").join();
    Attachment a = PublishedClient.builder().store(store).expectedServerId(world.serverId())
        .build().attach(endpoint, "world").join();
    List<String> seen = new CopyOnWriteArrayList<>();
    a.onPublished(o -> seen.add(o.identity()));

    RemoteTile t = a.get("c:0:0", RemoteTile.class);
    assertThat(t.value()).isEqualTo(new Tile("grass"));
    tile.paint("sand");
    world.publish(new TileObject("c:0:1", "water"));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> t.value().terrain().equals("sand") && seen.contains("c:0:1"));
    assertThat(a.perspectiveKey()).as("learned from the server, not configured")
        .isEqualTo("user:alice");
  }

  @Test
  void attachingToTheAvatarInsteadOfTheEndpointSaysWhatToPass() {
    PbRegistry registry = Publishing.register(PbRegistry.builder()).register(Tile.class)
        .registerCache(TileObject.class, RemoteTile.class).build();
    PublishingService world = PublishingService.builder().serverKey(ServerKey.generate())
        .service("world").perspectiveKey(p -> ((Player) p).name()).build();
    Portal portal = Portal.builder((id, mind, connection) ->
            CompletableFuture.completedFuture(Avatar.of(new Player(id.name(), world))))
        .checker(PasswordChecker.builder().user("alice", "secret").build()).build();
    PbServer server = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(registry).rootFactory(portal::root).build().start());
    PbClient client = cleanup.register(PbClient.builder().address("127.0.0.1", server.port())
        .registry(registry).build());
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    RemoteReference avatar = Login.login(client.rootObject().join(),
        Credentials.password("alice", "secret"), null).join();

    Throwable t = catchThrowable(() -> PublishedClient.builder().store(store)
        .expectedServerId(world.serverId()).build().attach(avatar, "world").join());

    assertThat(t).isInstanceOf(CompletionException.class);
    assertThat(t.getCause()).isInstanceOf(PublishException.class)
        .hasMessageContaining("the reference given is not a publishing endpoint")
        .hasMessageContaining("is it the avatar or the root?")
        .hasMessageContaining("\"publishingEndpoint\", \"world\"");
    assertThat(((PbException) t.getCause()).code()).isEqualTo(PbException.Code.NO_SUCH_METHOD);
    assertThat(store.list(io.pbj.store.SnapshotPrefix.of(world.serverId(), "world", "user:alice")))
        .as("nothing stored").isEmpty();
  }
}
