package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbServer;
import io.pbj.ReconnectPolicy;
import io.pbj.RemoteReference;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover in an origin cluster, without a cluster engine: two servers ("members") publish the
 * same world under the same server key and service name, with the same versions. A client
 * attached to one reconnects to the other when its member dies and re-attaches from its store:
 * every unchanged object is a store hit, in the one attach call, and no object shows a state the
 * new member does not have. Real TCP on loopback and a MapDB store on disk.
 */
@Timeout(60)
class ClusterFailoverTest {
  static final Duration WAIT = Duration.ofSeconds(20);
  static final ReconnectPolicy FAST =
      ReconnectPolicy.exponential(Duration.ofMillis(20), Duration.ofMillis(200));
  static final String CLUSTER = TestKeys.id("cluster-1");
  static final int OBJECTS = 40;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();
  @TempDir Path dir;

  /** One member: its own service and tiles, the same key, service name, states and versions. */
  final class Member {
    final List<Tile> tiles = new ArrayList<>();
    final PublishingService service;
    final PbServer server;

    Member(java.util.function.Supplier<List<String>> members) {
      for (int i = 0; i < OBJECTS; i++) {
        tiles.add(new Tile("tile-" + i, "grass-" + i, 1));
      }
      PublishingService.Builder b =
          PublishingService.builder().serverKey(TestKeys.key("cluster-1")).service("world");
      if (members != null) {
        b.members(members);
      }
      service = b.build();
      service.publishAll(tiles);
      server =
          cleanup.register(
              PbServer.builder()
                  .address("127.0.0.1", 0)
                  .registry(PublishingTest.REGISTRY)
                  .rootFactory(service::endpoint)
                  .build()
                  .start());
    }

    InetSocketAddress address() {
      return InetSocketAddress.createUnresolved("127.0.0.1", server.port());
    }

    String hostPort() {
      return "127.0.0.1:" + server.port();
    }

    void kill() throws InterruptedException {
      server.shutdown();
      assertThat(server.awaitTermination(WAIT)).isTrue();
    }
  }

  /** One attach made by the client's session initializer, with the calls it sent. */
  record Attached(Attachment attachment, long callsSent, RemoteReference root) {}

  /** A client on a MapDB store whose every session is an attach to "world". */
  final class Client {
    final SnapshotStore store =
        cleanup.register(
            SnapshotStore.builder()
                .backend(StoreBackend.MAPDB)
                .path(dir.resolve("store.db"))
                .build());
    final List<Attached> attaches = new CopyOnWriteArrayList<>();
    final List<Attachment> listened = new CopyOnWriteArrayList<>();
    final PbClient pb;
    final PublishedClient publishing;

    Client(List<InetSocketAddress> addresses, boolean learn) {
      AtomicReference<PublishedClient> holder = new AtomicReference<>();
      pb =
          cleanup.register(
              PbClient.builder()
                  .addresses(addresses)
                  .registry(PublishingTest.REGISTRY)
                  .reconnect(FAST)
                  .onSession(root -> attach(holder.get(), root))
                  .build());
      PublishedClient.Builder b =
          PublishedClient.builder()
              .store(store)
              .expectedServerId(CLUSTER)
              .mode(PublishedClient.Mode.INVENTORY)
              .attachListener(
                  new AttachListener() {
                    @Override
                    public void attached(Attachment a, long nanos) {
                      listened.add(a);
                    }
                  });
      if (learn) {
        b.learnMembers(pb);
      }
      publishing = b.build();
      holder.set(publishing);
      pb.start();
    }

    private CompletableFuture<RemoteReference> attach(PublishedClient p, RemoteReference root) {
      long before = root.connection().stats().callsSent();
      return p.attach(root, "world")
          .thenApply(
              a -> {
                // runs as the attach completes, before anything this client sends after it
                long calls = root.connection().stats().callsSent() - before;
                attaches.add(new Attached(a, calls, root));
                return root;
              });
    }

    Attached awaitAttach(int n) {
      await().atMost(WAIT).until(() -> attaches.size() >= n);
      return attaches.get(n - 1);
    }
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  SnapshotStore memoryStore() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  /** Every TileCache made while a test runs. */
  final List<TileCache> made = new CopyOnWriteArrayList<>();

  @AfterEach
  void unhook() {
    TileCache.onCreate = null;
  }

  /** Checks that the attach shows exactly {@code member}'s states, each from activation on. */
  static void assertShowsStatesOf(Member member, Attachment attachment) {
    Map<String, RemotePublished> objects = attachment.objects();
    assertThat(objects).hasSize(OBJECTS);
    for (Tile t : member.tiles) {
      TileCache c = (TileCache) objects.get(t.identity());
      assertThat(c.version()).as(t.identity()).isEqualTo(t.version());
      assertThat(c.terrainWhenActivated)
          .as(t.identity() + " when activated")
          .isEqualTo(t.terrain());
      assertThat(c.terrain()).as(t.identity()).isEqualTo(t.terrain());
    }
  }

  @Test
  void aClientReattachesToTheNextMemberFromItsStoreWhenItsMemberDies() throws Exception {
    Member a = new Member(null);
    Member b = new Member(null);
    Client client = new Client(List.of(a.address(), b.address()), false);

    Attached first = client.awaitAttach(1);
    assertThat(client.pb.currentAddress()).isEqualTo(a.address());
    assertThat(first.attachment().inlined())
        .as("cold: every state in the answer")
        .isEqualTo(OBJECTS);
    client.store.flush();

    TileCache.onCreate = made::add;
    a.kill();
    Attached second = client.awaitAttach(2);

    assertThat(client.pb.currentAddress()).isEqualTo(b.address());
    Attachment again = second.attachment();
    assertThat(again.serverId()).isEqualTo(CLUSTER);
    assertThat(again.proven()).isTrue();
    assertThat(again.hits()).as("store hits").isEqualTo(OBJECTS);
    assertThat(again.inlined()).as("states sent").isZero();
    assertThat(again.fetched()).as("states fetched").isZero();
    assertThat(again.extraCalls()).as("extra round trips").isZero();
    assertThat(second.callsSent()).as("calls: the attach only").isEqualTo(1);
    await().atMost(WAIT).until(() -> client.listened.size() == 2);
    assertThat(client.listened.get(1)).isSameAs(again);
    assertShowsStatesOf(b, again);
    assertThat(made).hasSize(OBJECTS).allMatch(c -> c.activations.get() == 1);
  }

  @Test
  void anObjectChangedOnTheNextMemberIsTheOnlyOneSentAndNoStaleStateIsShown() throws Exception {
    Member a = new Member(null);
    Member b = new Member(null);
    Client client = new Client(List.of(a.address(), b.address()), false);
    client.awaitAttach(1);
    client.store.flush();

    Tile changed = b.tiles.get(7);
    changed.change("lava", 2);
    TileCache.onCreate = made::add;
    a.kill();
    Attached second = client.awaitAttach(2);

    Attachment again = second.attachment();
    assertThat(again.hits()).as("store hits").isEqualTo(OBJECTS - 1);
    assertThat(again.inlined()).as("states sent: the changed one").isEqualTo(1);
    assertThat(again.fetched()).isZero();
    assertThat(again.extraCalls()).isZero();
    assertThat(second.callsSent()).isEqualTo(1);
    assertShowsStatesOf(b, again);
    TileCache lava = (TileCache) again.objects().get(changed.identity());
    assertThat(lava.terrainWhenActivated).isEqualTo("lava");
    assertThat(lava.version()).isEqualTo(2);
    // every object made for the new session was activated once, with the new member's state
    assertThat(made).hasSize(OBJECTS);
    for (TileCache c : made) {
      assertThat(c.activations).hasValue(1);
      assertThat(c.terrainWhenActivated)
          .isEqualTo(c == lava ? "lava" : "grass-" + c.identity().substring("tile-".length()));
    }
  }

  @Test
  void aClientThatKnewOneMemberLearnsTheOthersAndFailsOverToThem() throws Exception {
    List<String> memberList = new CopyOnWriteArrayList<>();
    Member a = new Member(() -> memberList);
    Member b = new Member(() -> memberList);
    memberList.addAll(List.of(a.hostPort(), b.hostPort()));
    Client client = new Client(List.of(a.address()), true);

    Attached first = client.awaitAttach(1);
    assertThat(first.callsSent()).as("members() is not on the attach's path").isEqualTo(1);
    await().atMost(WAIT).until(() -> client.pb.addresses().size() == 2);
    assertThat(client.pb.addresses()).containsExactlyInAnyOrder(a.address(), b.address());
    client.store.flush();

    a.kill();
    Attached second = client.awaitAttach(2);
    assertThat(client.pb.currentAddress()).isEqualTo(b.address());
    assertThat(second.attachment().hits()).isEqualTo(OBJECTS);
    assertThat(second.attachment().inlined()).isZero();
    assertThat(second.callsSent()).isEqualTo(1);
    assertShowsStatesOf(b, second.attachment());
  }

  @Test
  void theResolverLearnsTheMembersAndResolvesThroughAnotherWhenItsMemberIsLost()
      throws Exception {
    List<String> memberList = new CopyOnWriteArrayList<>();
    Member a = new Member(() -> memberList);
    Member b = new Member(() -> memberList);
    memberList.addAll(List.of(b.hostPort(), a.hostPort()));
    PublishedResolver resolver =
        cleanup.register(
            PublishedResolver.builder()
                .registry(PublishingTest.REGISTRY)
                .store(memoryStore())
                .build());
    PbUrl url =
        PbUrl.parse("pb://" + CLUSTER + "@127.0.0.1:" + a.server.port() + "/world/tile-3");
    TileCache first = get(resolver.resolve(url, null, TileCache.class));
    assertThat(first.fromStore()).isFalse();
    await().atMost(WAIT).until(() -> resolver.addressesOf(url).size() == 2);

    a.kill();
    await().atMost(WAIT).until(() -> !first.isConnected());
    TileCache again = get(resolver.resolve(url, null, TileCache.class));
    assertThat(again).isNotSameAs(first);
    assertThat(again.fromStore()).as("re-attached from the store, on b").isTrue();
    assertThat(again.terrainWhenActivated).isEqualTo("grass-3");
    assertThat(b.server.connections()).hasSize(1);
  }

  @Test
  void membersAreAnsweredBoundedAndReadDefensively() throws Exception {
    List<String> given = new ArrayList<>();
    given.add("");
    given.add("no-port");
    given.add("x".repeat(PublishingService.MAX_MEMBER_LENGTH + 1) + ":1");
    given.add(null);
    for (int i = 1; i <= 70; i++) {
      given.add("member-" + i + ".example:7000");
    }
    Member m = new Member(() -> given);
    PbClient pb =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", m.server.port())
                .registry(PublishingTest.REGISTRY)
                .build());
    RemoteReference endpoint = get(pb.rootObject());
    PublishedClient publishing =
        PublishedClient.builder().store(memoryStore()).mode(PublishedClient.Mode.VERSIONS).build();

    @SuppressWarnings("unchecked")
    List<Object> raw = (List<Object>) get(endpoint.callRemote("members"));
    assertThat(raw).hasSize(PublishingService.MAX_MEMBERS);
    // "no-port" is sent (the server does not parse) but skipped by the client
    assertThat(raw.get(0)).isEqualTo("no-port");
    List<InetSocketAddress> learned = get(publishing.members(endpoint));
    assertThat(learned).hasSize(PublishingService.MAX_MEMBERS - 1);
    assertThat(learned.get(0))
        .isEqualTo(InetSocketAddress.createUnresolved("member-1.example", 7000));

    Member none = new Member(null);
    PbClient other =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", none.server.port())
                .registry(PublishingTest.REGISTRY)
                .build());
    assertThat(get(publishing.members(get(other.rootObject())))).isEmpty();
  }

  @Test
  void untrustedMemberAnswersAreBoundedAndBadEntriesSkipped() {
    List<Object> answer = new ArrayList<>();
    answer.add("a.example:1");
    answer.add(42);
    answer.add(null);
    answer.add("garbage");
    answer.add("[::1]:2");
    answer.add("A.example:1");
    answer.add("evil\u0000:1");
    answer.add("y".repeat(400) + ":1");
    assertThat(PublishedClient.memberAddresses(answer, null))
        .containsExactly(
            InetSocketAddress.createUnresolved("a.example", 1),
            InetSocketAddress.createUnresolved("::1", 2));
    assertThat(PublishedClient.memberAddresses("not a list", null)).isEmpty();
    assertThat(PublishedClient.memberAddresses(null, null)).isEmpty();
    List<Object> many = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      many.add("h" + i + ":1");
    }
    assertThat(PublishedClient.memberAddresses(many, null)).hasSize(PbClient.MAX_ADDRESSES);
  }

  /** A root from before origin clusters: no members() method. */
  public static final class OldEndpoint implements io.pbj.Referenceable {
    @io.pbj.Remote
    public String hello() {
      return "hello";
    }
  }

  @Test
  void aServerWithoutTheMembersCallAnswersNoMembers() throws Exception {
    PbServer old =
        cleanup.register(
            PbServer.builder()
                .address("127.0.0.1", 0)
                .registry(PublishingTest.REGISTRY)
                .root(new OldEndpoint())
                .build()
                .start());
    PbClient pb =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", old.port())
                .registry(PublishingTest.REGISTRY)
                .build());
    PublishedClient publishing =
        PublishedClient.builder().store(memoryStore()).mode(PublishedClient.Mode.VERSIONS).build();
    assertThat(get(publishing.members(get(pb.rootObject())))).isEmpty();
  }
}
