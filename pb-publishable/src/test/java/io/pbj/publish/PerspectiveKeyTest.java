package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.Referenceable;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.cred.Avatar;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client that logs in but is not told its perspective key never downloads everything silently:
 * it learns the key from the server's answer, and a store written under one key is never read
 * under another.
 */
class PerspectiveKeyTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  static final String ORIGIN = TestKeys.id("origin-1");
  final String name = "pbj-pkey-" + UUID.randomUUID();
  final PublishingService service = PublishingService.builder()
      .serverKey(TestKeys.key("origin-1")).service("world")
      .perspectiveKey(p -> ((Player) p).name()).build();

  record Player(String name, PublishingService world) implements Referenceable {
    @Remote
    public Referenceable publishingEndpoint(String s) {
      return world.endpoint();
    }
  }

  PerspectiveKeyTest() {
    service.publishAll(PublishingTest.tiles(200));
    Portal portal = Portal.builder((id, mind, connection) ->
            CompletableFuture.completedFuture(Avatar.of(new Player(id.name(), service))))
        .checker(PasswordChecker.builder().user("alice", "a").user("bob", "b").build()).build();
    cleanup.register(PbServer.builder().inProcess(name).registry(PublishingTest.REGISTRY)
        .rootFactory(portal::root).build().start());
  }

  RemoteReference loggedIn(String user, String password) {
    PbClient client = cleanup.register(
        PbClient.builder().inProcess(name).registry(PublishingTest.REGISTRY).build());
    RemoteReference avatar = Login.login(client.rootObject().join(),
        Credentials.password(user, password), null).join();
    return avatar.callRemote(RemoteReference.class, "publishingEndpoint", "world").join();
  }

  @Test
  void aClientThatWasNotToldItsKeyComparesVersionsInsteadOfDownloadingEverything() {
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    PublishedClient.builder().store(store).expectedServerId(ORIGIN).build()
        .attach(loggedIn("alice", "a"), "world").join();

    // A fresh process: a new client, the same store, no perspective key configured.
    PublishedClient fresh = PublishedClient.builder().store(store).expectedServerId(ORIGIN).build();
    RemoteReference endpoint = loggedIn("alice", "a");
    long before = endpoint.connection().stats().bytesReceived();
    Attachment first = fresh.attach(endpoint, "world").join();
    assertThat(first.perspectiveKey()).isEqualTo("user:alice");
    assertThat(first.hits()).as("read under the key the server named").isEqualTo(200);
    assertThat(first.extraCalls()).as("its inventory was listed under another key").isZero();
    assertThat(first.inlined() + first.fetched()).isZero();
    assertThat(endpoint.connection().stats().bytesReceived() - before)
        .as("versions only, no state").isLessThan(200 * 40);

    // The next attach of that client sends the inventory under the learned key.
    Attachment second = fresh.attach(loggedIn("alice", "a"), "world").join();
    assertThat(second.hits()).isEqualTo(200);
    assertThat(second.extraCalls()).isZero();
  }

  @Test
  void aStoreWrittenUnderOneUsersKeyIsNeverReadUnderAnothers() {
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    PublishedClient client = PublishedClient.builder().store(store).expectedServerId(ORIGIN).build();
    client.attach(loggedIn("alice", "a"), "world").join();
    Attachment bob = client.attach(loggedIn("bob", "b"), "world").join();
    assertThat(bob.perspectiveKey()).isEqualTo("user:bob");
    assertThat(bob.hits()).as("alice's entries are not bob's").isZero();
    assertThat(bob.inlined() + bob.fetched()).isEqualTo(200);
    store.flush();
    assertThat(store.list(SnapshotPrefix.of(ORIGIN, "world", "user:alice"))).hasSize(200);
    assertThat(store.list(SnapshotPrefix.of(ORIGIN, "world", "user:bob"))).hasSize(200);
  }

  @Test
  void aWrongConfiguredKeyCostsOneCallNotTheWholeWorld() {
    SnapshotStore store = cleanup.register(PublishingTest.memoryStore());
    PublishedClient.builder().store(store).expectedServerId(ORIGIN).build()
        .attach(loggedIn("alice", "a"), "world").join();
    Attachment wrong = PublishedClient.builder().store(store).expectedServerId(ORIGIN)
        .perspectiveKey("user:somebody-else").build().attach(loggedIn("alice", "a"), "world")
        .join();
    assertThat(wrong.hits()).isEqualTo(200);
    assertThat(wrong.inlined() + wrong.fetched()).isZero();
    assertThat(wrong.extraCalls()).isZero();
  }
}
