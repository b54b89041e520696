package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** pb:// references resolved over TCP against real servers. */
class PublishedResolverTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** A service of five tiles whose server key is {@code TestKeys.key(name)}. */
  PublishingService world(String name) {
    PublishingService s =
        PublishingService.builder().serverKey(TestKeys.key(name)).service("world").build();
    s.publishAll(PublishingTest.tiles(5));
    return s;
  }

  PbServer serve(PublishingService service) {
    return cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(service::endpoint).build().start());
  }

  SnapshotStore store() {
    return cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
  }

  PublishedResolver resolver(SnapshotStore store) {
    return cleanup.register(
        PublishedResolver.builder().registry(PublishingTest.REGISTRY).store(store).build());
  }

  /** A reference to {@code identity} of the server whose key is {@code TestKeys.key(name)}. */
  static PbUrl url(String name, PbServer server, String identity) {
    return PbUrl.parse(
        "pb://" + TestKeys.id(name) + "@127.0.0.1:" + server.port() + "/world/" + identity);
  }

  static PublishException publishFailure(CompletableFuture<?> f) {
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(f::join);
    assertThat(t).isInstanceOf(CompletionException.class).hasCauseInstanceOf(PublishException.class);
    return (PublishException) t.getCause();
  }

  @Test
  void resolvingFetchesOnceThenAnswersFromTheStoreInALaterSession() {
    PbServer server = serve(world("origin-1"));
    SnapshotStore store = store();
    PbUrl url = url("origin-1", server, "tile-3");

    TileCache first = resolver(store).resolve(url, null, TileCache.class).join();
    assertThat(first.isActivated()).isTrue();
    assertThat(first.fromStore()).isFalse();
    assertThat(first.terrain()).isEqualTo("grass-3");

    TileCache second = resolver(store).resolve(url, null, TileCache.class).join();
    assertThat(second).isNotSameAs(first);
    assertThat(second.fromStore()).isTrue();
    assertThat(second.terrain()).isEqualTo("grass-3");
  }

  @Test
  void resolvingSeveralReferencesReusesOneConnection() {
    PbServer server = serve(world("origin-1"));
    PublishedResolver resolver = resolver(store());
    for (int i = 0; i < 5; i++) {
      TileCache t = resolver.resolve(url("origin-1", server, "tile-" + i), null, TileCache.class)
          .join();
      assertThat(t.terrain()).isEqualTo("grass-" + i);
    }
    TileCache again = resolver.resolve(url("origin-1", server, "tile-0"), null, TileCache.class)
        .join();
    assertThat(again.terrain()).isEqualTo("grass-0");
    assertThat(server.connections()).hasSize(1);
  }

  @Test
  void anotherServerAtTheAddressIsAServerIdMismatch() {
    PbServer server = serve(world("origin-2"));
    SnapshotStore store = store();
    PublishException e =
        publishFailure(resolver(store).resolve(url("origin-1", server, "tile-0"), null));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_MISMATCH);
    assertThat(e).hasMessageContaining("expected server id " + TestKeys.id("origin-1")
        + " but the server is " + TestKeys.id("origin-2"));
    assertThat(store.size()).as("nothing stored from the wrong server").isZero();
  }

  @Test
  void aServerThatDoesNotProveTheReferencesIdIsRefused() {
    PublishingService impostor = PublishingService.builder()
        .relayOf(TestKeys.id("origin-1"), null).service("world").build();   // claims the id
    impostor.publishAll(PublishingTest.tiles(5));
    PbServer server = serve(impostor);
    SnapshotStore store = store();
    PbUrl url = url("origin-1", server, "tile-0");
    PublishException e = publishFailure(resolver(store).resolve(url, null));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(e).hasMessageContaining("(expected " + TestKeys.id("origin-1") + ")");
    store.flush();
    assertThat(store.size()).as("nothing stored from the impostor").isZero();

    PublishedResolver trusting = cleanup.register(PublishedResolver.builder()
        .registry(PublishingTest.REGISTRY).store(store).allowUnprovenServerIds().build());
    assertThat(trusting.resolve(url, null, TileCache.class).join().terrain()).isEqualTo("grass-0");
  }

  @Test
  void unknownIdentityIsNoSuchObjectAndTheConnectionStaysUsable() {
    PbServer server = serve(world("origin-1"));
    PublishedResolver resolver = resolver(store());
    PublishException e = publishFailure(resolver.resolve(url("origin-1", server, "nope"), null));
    assertThat(e.code()).isEqualTo(PbException.Code.NO_SUCH_OBJECT);
    assertThat(e).hasMessageContaining(TestKeys.id("origin-1") + "/world publishes no object nope");
    assertThat(resolver.resolve(url("origin-1", server, "tile-1"), null, TileCache.class).join()
        .terrain()).isEqualTo("grass-1");
  }

  @Test
  void unreachableServerFailsClearlyAndOfflineReadAnswersTheStoredSnapshot() throws Exception {
    PbServer server = serve(world("origin-1"));
    SnapshotStore store = store();
    PbUrl url = url("origin-1", server, "tile-2");
    PublishedResolver resolver = resolver(store);
    assertThat(resolver.readOffline(url, null)).isEmpty();
    resolver.resolve(url, null).join();
    server.close();

    int port = url.port();
    try (ServerSocket probe = new ServerSocket(port)) {
      // the port is free: nothing listens there any more
      assertThat(probe.getLocalPort()).isEqualTo(port);
    }
    PublishException e = publishFailure(resolver(store).resolve(url, null));
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECT_FAILED);
    assertThat(e).hasMessageContaining("127.0.0.1:" + port);
    assertThat(e.getCause()).isInstanceOf(PbException.class);

    Snapshot offline = resolver(store).readOffline(url, null).orElseThrow();
    assertThat(new String(offline.state(), StandardCharsets.UTF_8)).isEqualTo("t:grass-2");
    assertThat(offline.version()).isEqualTo(1);
  }

  /** An avatar that offers the publishing endpoint, as PublishedResolver expects after login. */
  static final class Player implements Referenceable {
    final String name;
    final PublishingService service;
    final PbConnection connection;

    Player(String name, PublishingService service, PbConnection connection) {
      this.name = name;
      this.service = service;
      this.connection = connection;
    }

    @Remote(PublishedResolver.ENDPOINT_METHOD)
    public Referenceable endpoint(String serviceName) {
      if (!service.service().equals(serviceName)) {
        throw new IllegalArgumentException("no service " + serviceName);
      }
      return service.endpoint(connection);
    }
  }

  @Test
  void credentialsLogInAndTheStateIsStoredUnderTheUsersPerspective() {
    PublishingService service = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world")
        .perspectiveKey(p -> ((Player) p).name).build();
    service.publish(new Tile("tile-0", "grass", 1, p -> "@" + ((Player) p).name));
    Portal portal = Portal.builder((id, mind, connection) -> CompletableFuture.completedFuture(
            Avatar.of(new Player(id.name(), service, connection))))
        .checker(PasswordChecker.builder().user("alice", "a-pw").user("bob", "b-pw").build())
        .build();
    PbServer server = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(portal::root).build().start());
    SnapshotStore store = store();
    PbUrl url = url("origin-1", server, "tile-0");
    PublishedResolver resolver = resolver(store);

    Credentials aliceLogin = Credentials.password("alice", "a-pw");
    TileCache alice = resolver.resolve(url, aliceLogin, TileCache.class).join();
    TileCache bob =
        resolver.resolve(url, Credentials.password("bob", "b-pw"), TileCache.class).join();
    assertThat(alice.terrain()).isEqualTo("grass@alice");
    assertThat(bob.terrain()).isEqualTo("grass@bob");
    assertThat(alice.storeKey().perspective()).isEqualTo("user:alice");

    TileCache aliceAgain = resolver(store)
        .resolve(url, Credentials.password("alice", "a-pw"), TileCache.class).join();
    assertThat(aliceAgain.fromStore()).isTrue();
    assertThat(aliceAgain.terrain()).isEqualTo("grass@alice");
    assertThat(resolver.readOffline(url, Credentials.password("bob", "x")).orElseThrow().state())
        .isEqualTo("t:grass@bob".getBytes(StandardCharsets.UTF_8));

    assertThat(resolver.resolve(url.withIdentity("tile-0"), aliceLogin).join())
        .as("the same credentials reuse their session").isSameAs(alice);
    assertThatThrownBy(() -> resolver
            .resolve(url, Credentials.password("alice", "wrong"), TileCache.class).join())
        .as("other credentials for a logged-in user log in again, and fail")
        .hasCauseInstanceOf(PbException.class)
        .hasMessageContaining("unauthorized login");
  }

  /**
   * A user named "anonymous" logs in and caches what that user sees; a session without login on
   * the same server (another port, the same service) sees other state. Neither may ever be taken
   * for the other: not online (the server's keys), not offline (the resolver's keys).
   */
  @Test
  void aUserNamedAnonymousNeverSharesEntriesWithAnAnonymousSession() {
    PublishingService service = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world")
        .perspectiveKey(p -> ((Player) p).name).build();
    service.publish(new Tile("tile-0", "grass", 1, p -> p == null ? "" : "@" + ((Player) p).name));
    Portal portal = Portal.builder((id, mind, connection) -> CompletableFuture.completedFuture(
            Avatar.of(new Player(id.name(), service, connection))))
        .checker(PasswordChecker.builder().user("anonymous", "pw").build())
        .build();
    PbServer withLogin = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(portal::root).build().start());
    PbServer withoutLogin = serve(service);
    SnapshotStore store = store();
    PublishedResolver resolver = resolver(store);
    Credentials user = Credentials.password("anonymous", "pw");
    PbUrl asUser = url("origin-1", withLogin, "tile-0");
    PbUrl asNobody = url("origin-1", withoutLogin, "tile-0");

    assertThat(resolver.resolve(asUser, user, TileCache.class).join().terrain())
        .isEqualTo("grass@anonymous");
    assertThat(resolver.readOffline(asNobody, null))
        .as("an anonymous offline read finds nothing: only the user was ever attached").isEmpty();
    assertThat(resolver.readOffline(asNobody, Credentials.anonymous())).isEmpty();
    assertThat(resolver.readOffline(asUser, user).orElseThrow().state())
        .isEqualTo("t:grass@anonymous".getBytes(StandardCharsets.UTF_8));

    TileCache nobody = resolver(store).resolve(asNobody, null, TileCache.class).join();
    assertThat(nobody.terrain()).as("the anonymous session gets its own state").isEqualTo("grass");
    assertThat(nobody.fromStore()).isFalse();
    assertThat(nobody.storeKey().perspective()).isNotEqualTo(
        resolver.resolve(asUser, user, TileCache.class).join().storeKey().perspective());
    assertThat(resolver.readOffline(asNobody, null).orElseThrow().state())
        .isEqualTo("t:grass".getBytes(StandardCharsets.UTF_8));
    assertThat(resolver.readOffline(asUser, user).orElseThrow().state())
        .as("the user's entry is untouched").isEqualTo("t:grass@anonymous".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void builderRefusesMissingAndRepeatedOptions() {
    assertThatThrownBy(() -> PublishedResolver.builder().store(store()).build())
        .hasMessageContaining("needs a registry");
    assertThatThrownBy(() -> PublishedResolver.builder().registry(PublishingTest.REGISTRY).build())
        .hasMessageContaining("needs a store");
    assertThatThrownBy(() -> PublishedResolver.builder().store(store()).store(store()))
        .hasMessageContaining("PublishedResolver.Builder.store was already set");
  }

  @Test
  void everyObjectResolvedOnAConnectionIsToldWhenItIsUnpublished() {
    PublishingService s = world("origin-1");
    PbServer server = serve(s);
    PublishedResolver resolver = resolver(store());
    TileCache first = resolver.resolve(url("origin-1", server, "tile-0"), null, TileCache.class)
        .join();
    // after the attach, the resolver asks for the cluster's members (none here), off its path
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(() -> first.connection().stats().callsSent() == 2);
    long calls = first.connection().stats().callsSent();
    TileCache second = resolver.resolve(url("origin-1", server, "tile-1"), null, TileCache.class)
        .join();
    assertThat(first.connection().stats().callsSent() - calls)
        .as("the second resolve grows the live attachment in one call").isEqualTo(1);

    s.unpublish("tile-0");
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
        .until(first::isUnpublished);
    assertThat(second.isUnpublished()).isFalse();
    assertThat(publishFailure(resolver.resolve(url("origin-1", server, "tile-0"), null)).code())
        .isEqualTo(PbException.Code.NO_SUCH_OBJECT);
    assertThat(resolver.resolve(url("origin-1", server, "tile-2"), null, TileCache.class).join()
        .terrain()).isEqualTo("grass-2");
  }
}
