package io.pbj.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.hazelcast.core.EntryEvent;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.map.listener.EntryAddedListener;
import com.hazelcast.map.listener.EntryUpdatedListener;
import io.pbj.PbClient;
import io.pbj.PbCodec;
import io.pbj.cluster.ClusterFixture.Origin;
import io.pbj.publish.Attachment;
import io.pbj.publish.Publishable;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.RemotePublished;
import io.pbj.publish.ServerKey;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Three embedded Hazelcast members on loopback (started once for the class), each test with
 * origin members of a service of its own.
 */
class ClusterPublishingTest {
  private static HazelcastMembers members;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();
  private final ClusterFixture fixture = new ClusterFixture(cleanup);
  private final String service = "world-" + UUID.randomUUID();

  @BeforeAll
  static void startMembers() {
    members = HazelcastMembers.start(3);
  }

  @AfterAll
  static void stopMembers() {
    members.close();
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(20));
  }

  private Origin[] threeOrigins() {
    return new Origin[] {
      fixture.origin(members.get(0), service),
      fixture.origin(members.get(1), service),
      fixture.origin(members.get(2), service)
    };
  }

  private IMap<String, byte[]> map(HazelcastInstance member) {
    return member.getMap(ClusterPublishing.MAP_PREFIX + service);
  }

  /** Every object of the map, and nothing else, is published by {@code origin} as the map has it. */
  static void assertLocalEqualsMap(Origin origin, IMap<String, byte[]> map) {
    Map<String, ClusterRecord> records = new HashMap<>();
    map.forEach((k, v) -> records.put(k, ClusterRecord.decode(v, 1 << 20)));
    assertThat(origin.cluster().service().size()).isEqualTo(records.size());
    records.forEach((identity, r) -> {
      Publishable local = origin.cluster().service().get(identity).orElseThrow();
      assertThat(local.version()).as("version of %s", identity).isEqualTo(r.version());
      assertThat(((ClusterCounter) local).count())
          .isEqualTo(PbCodec.of(ClusterFixture.REGISTRY).decode(r.state(), Count.class));
    });
  }

  /** What {@code attachment} holds is the map: the same identities, states and versions. */
  static void assertClientEqualsMap(Attachment attachment, IMap<String, byte[]> map) {
    Map<String, ClusterRecord> records = new HashMap<>();
    map.forEach((k, v) -> records.put(k, ClusterRecord.decode(v, 1 << 20)));
    assertThat(attachment.objects().keySet()).isEqualTo(records.keySet());
    records.forEach((identity, r) -> {
      RemoteClusterCounter c = attachment.get(identity, RemoteClusterCounter.class);
      assertThat(c.version()).as("version of %s", identity).isEqualTo(r.version());
      assertThat(c.value())
          .isEqualTo(PbCodec.of(ClusterFixture.REGISTRY).decode(r.state(), Count.class));
    });
  }

  @Test
  void aClientOfOneMemberSeesChangesMadeOnEveryMember() {
    Origin[] o = threeOrigins();
    assertThat(o[1].cluster().serverId())
        .isEqualTo(o[0].cluster().serverId())
        .isEqualTo(o[2].cluster().serverId())
        .isEqualTo(ClusterFixture.KEY.serverId());

    o[0].cluster().publish("a", new Count("a", 0));
    eventually().until(() -> o[1].cluster().service().get("a").isPresent());
    Attachment client = fixture.attach(o[1], fixture.store());
    assertThat(client.serverId()).isEqualTo(ClusterFixture.KEY.serverId());
    assertThat(client.proven()).isTrue();
    RemoteClusterCounter a = client.get("a", RemoteClusterCounter.class);
    assertThat(a.value()).isEqualTo(new Count("a", 0));

    o[2].cluster().delta("a", new Count("a", 5), "add", 5);
    eventually().untilAsserted(() -> assertThat(a.value()).isEqualTo(new Count("a", 5)));
    assertThat(a.deltas.get()).as("the change reached the client as a delta").isEqualTo(1);
    assertThat(a.version()).isEqualTo(o[0].cluster().version("a").orElseThrow());

    o[0].cluster().publish("a", new Count("renamed", 5));
    eventually().untilAsserted(() -> assertThat(a.value()).isEqualTo(new Count("renamed", 5)));

    o[2].cluster().publish("b", new Count("b", 1));
    eventually().until(() -> client.objects().containsKey("b"));

    assertThat(o[1].cluster().unpublish("a")).isTrue();
    assertThat(o[1].cluster().unpublish("a")).isFalse();
    eventually().until(a::isUnpublished);

    eventually().untilAsserted(() -> {
      assertClientEqualsMap(client, map(members.get(1)));
      for (Origin origin : o) {
        assertLocalEqualsMap(origin, map(members.get(0)));
      }
    });
    assertThat(o[2].cluster().size()).isEqualTo(1);
    assertThat(o[2].cluster().state("b")).contains(new Count("b", 1));
  }

  @Test
  void changesToOneObjectFromTwoMembersReachEveryClientInTheMapsOrder() throws Exception {
    Origin[] o = threeOrigins();
    ConcurrentSkipListMap<Long, Long> mapOrder = new ConcurrentSkipListMap<>();
    IMap<String, byte[]> map = map(members.get(1));
    class Recorder implements EntryAddedListener<String, byte[]>,
        EntryUpdatedListener<String, byte[]> {
      @Override
      public void entryAdded(EntryEvent<String, byte[]> e) {
        record(e.getValue());
      }

      @Override
      public void entryUpdated(EntryEvent<String, byte[]> e) {
        record(e.getValue());
      }

      private void record(byte[] bytes) {
        ClusterRecord r = ClusterRecord.decode(bytes, 1 << 20);
        mapOrder.put(r.seq(), r.version());
      }
    }
    java.util.UUID recorder = map.addEntryListener(new Recorder(), true);
    try {
      o[0].cluster().publish("x", new Count("x", 0));
      // Each origin applies the map's event on its own event thread: a client attached to an
      // origin that has not applied it yet would be attached without x.
      for (Origin origin : o) {
        eventually().until(() -> origin.cluster().service().get("x").isPresent());
      }
      List<RemoteClusterCounter> clients = new ArrayList<>();
      for (Origin origin : o) {
        clients.add(fixture.attach(origin, fixture.store()).get("x", RemoteClusterCounter.class));
      }

      int changes = 40;
      CompletableFuture<Void> wholes = CompletableFuture.runAsync(() -> {
        for (int i = 1; i <= changes; i++) {
          o[0].cluster().publish("x", new Count("whole-" + i, i * 1000));
        }
      });
      CompletableFuture<Void> deltas = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < changes; i++) {
          while (true) {
            long version = o[2].cluster().version("x").orElseThrow();
            Count c = (Count) o[2].cluster().state("x").orElseThrow();
            if (o[2].cluster().deltaFrom(
                "x", version, new Count(c.name(), c.count() + 1), "add", 1)) {
              break;
            }
          }
        }
      });
      CompletableFuture.allOf(wholes, deltas).get();

      ClusterRecord last = ClusterRecord.decode(map.get("x"), 1 << 20);
      eventually().until(() -> mapOrder.containsKey(last.seq()));
      List<Long> mapVersions = new ArrayList<>(mapOrder.values());
      assertThat(mapOrder.firstKey()).isEqualTo(1);
      assertThat(mapOrder.lastKey()).isEqualTo(last.seq()).isEqualTo(mapOrder.size());
      for (RemoteClusterCounter client : clients) {
        eventually().untilAsserted(() -> assertThat(client.version()).isEqualTo(last.version()));
        assertThat(client.value())
            .isEqualTo(PbCodec.of(ClusterFixture.REGISTRY).decode(last.state(), Count.class));
        assertThat(isSubsequence(withoutRepeats(client.versions), mapVersions))
            .as("versions seen %s are the map's %s in its order", client.versions, mapVersions)
            .isTrue();
      }
      for (Origin origin : o) {
        eventually().untilAsserted(() -> assertLocalEqualsMap(origin, map));
      }
    } finally {
      map.removeEntryListener(recorder);
    }
  }

  @Test
  void aMemberThatJoinsLaterLoadsTheMapAndServesClientsFromTheirStores() {
    Origin first = fixture.origin(members.get(0), service);
    Map<String, Count> states = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      states.put("t-" + i, new Count("t-" + i, i));
    }
    first.cluster().publishAll(states);
    eventually().untilAsserted(() -> assertLocalEqualsMap(first, map(members.get(0))));
    SnapshotStore store = fixture.store();
    Attachment before = fixture.attach(first, store);
    assertThat(before.hits()).isZero();

    HazelcastInstance late = members.startMember();
    try {
      Origin joined = fixture.origin(late, service);
      // build() returns once the map is loaded: no waiting.
      assertLocalEqualsMap(joined, map(late));
      Attachment after = fixture.attach(joined, store);
      assertThat(after.hits()).as("every object from the store").isEqualTo(20);
      assertThat(after.objects().values()).allMatch(RemotePublished::fromStore);
      joined.cluster().close();
    } finally {
      late.getLifecycleService().shutdown();
    }
  }

  @Test
  void aMemberWithAnotherServerKeyIsRefusedAtBuild() {
    fixture.origin(members.get(0), service);
    ServerKey other = ServerKey.generate();
    assertThatThrownBy(() -> ClusterPublishing.builder().hazelcast(members.get(1))
            .registry(ClusterFixture.REGISTRY).serverKey(other).service(service)
            .objects(ClusterFixture.COUNTERS).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("this member holds a different ServerKey than the cluster")
        .hasMessageContaining("every member must use the same key")
        .hasMessageContaining(ClusterFixture.KEY.serverId())
        .hasMessageContaining(other.serverId());
  }

  @Test
  void versionsComeFromContentAndAnUnchangedStateWritesNothing() {
    Origin[] o = threeOrigins();
    IMap<String, byte[]> map = map(members.get(0));
    Count one = new Count("v", 1);
    long expected =
        ClusterRecord.versionOf("v", PbCodec.of(ClusterFixture.REGISTRY).encode(one));
    o[0].cluster().publish("v", one);
    for (Origin origin : o) {
      eventually().untilAsserted(() -> assertThat(
          origin.cluster().service().get("v").map(Publishable::version)).contains(expected));
    }

    byte[] written = map.get("v");
    o[1].cluster().publish("v", new Count("v", 1));
    o[2].cluster().delta("v", new Count("v", 1), "add", 0);
    o[2].cluster().publishAll(Map.of("v", new Count("v", 1)));
    assertThat(map.get("v")).as("no write: same bytes, same seq").isEqualTo(written);

    o[0].cluster().publish("v", new Count("v", 2));
    assertThat(o[0].cluster().version("v")).isPresent().get().isNotEqualTo(expected);
    o[1].cluster().publish("v", new Count("v", 1));
    assertThat(o[0].cluster().version("v")).contains(expected);
    assertThat(ClusterRecord.decode(map.get("v"), 1 << 20).seq()).isEqualTo(3);
    for (Origin origin : o) {
      eventually().untilAsserted(() -> assertLocalEqualsMap(origin, map));
    }

    o[2].cluster().publish("w", one);
    assertThat(o[2].cluster().version("w")).isPresent().get().isNotEqualTo(expected);
  }

  @Test
  void aBadRecordInTheMapIsSkippedAndOtherObjectsAreUnaffected() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    IMap<String, byte[]> map = map(members.get(0));
    byte[] goodState = PbCodec.of(ClusterFixture.REGISTRY).encode(new Count("ok", 1));
    map.put("garbage", new byte[] {7, 7, 7});
    byte[] future = ClusterRecord.whole(1, 1, goodState).encode();
    future[0] = 2;
    map.put("future-format", future);
    byte[] huge = ClusterRecord.whole(1, 1, goodState).encode();
    huge[huge.length - goodState.length - 4] = 0x7f;    // declares a state of ~2 GB
    map.put("huge", huge);
    map.put("undecodable", ClusterRecord.whole(1, 1, new byte[] {1, 2, 3}).encode());
    map.put("trailing", java.util.Arrays.copyOf(ClusterRecord.whole(1, 1, goodState).encode(),
        ClusterRecord.whole(1, 1, goodState).encode().length + 1));

    o[0].cluster().publish("good", new Count("good", 1));
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().get("good").isPresent());
    }
    // A member built now loads the map past the same records, and says which it skipped.
    java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    Origin third;
    System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      third = fixture.origin(members.get(2), service);
    } finally {
      System.setErr(err);
    }
    String log = logged.toString(java.nio.charset.StandardCharsets.UTF_8);
    for (String bad : List.of("garbage", "future-format", "huge", "undecodable", "trailing")) {
      assertThat(log).contains("the record of identity " + bad + " is skipped");
    }
    assertThat(log).contains("format is 2").contains("maxStateBytes");
    for (Origin origin : List.of(o[0], o[1], third)) {
      assertThat(origin.cluster().service().size()).isEqualTo(1);
      assertThat(origin.cluster().service().get("good")).isPresent();
    }
    assertThatThrownBy(() -> o[0].cluster().state("garbage"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("garbage");

    // Publishing over a bad record replaces it, and every member follows again.
    o[1].cluster().publish("garbage", new Count("fixed", 2));
    o[1].cluster().publish("good", new Count("good", 2));
    for (Origin origin : List.of(o[0], o[1], third)) {
      eventually().untilAsserted(() -> {
        assertThat(origin.cluster().service().get("garbage")).isPresent();
        assertThat(((ClusterCounter) origin.cluster().service().get("good").orElseThrow()).count())
            .isEqualTo(new Count("good", 2));
      });
    }
  }

  @Test
  void reloadBringsAMemberThatMissedChangesBackToTheMap() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    IMap<String, byte[]> map = map(members.get(0));
    o[0].cluster().publishAll(Map.of("p", new Count("p", 1), "q", new Count("q", 1)));
    eventually().untilAsserted(() -> assertLocalEqualsMap(o[1], map));
    // What missed events leave behind: an object missing, another stale.
    o[1].cluster().service().unpublish("p");
    ClusterCounter q = (ClusterCounter) o[1].cluster().service().get("q").orElseThrow();
    synchronized (q) {
      q.takeClusterState(new Count("stale", 0));
      q.republish(12345L);
    }

    o[1].cluster().reload();

    assertLocalEqualsMap(o[1], map);
    o[0].cluster().delta("q", new Count("q", 2), "add", 1);
    eventually().untilAsserted(() -> assertLocalEqualsMap(o[1], map));
  }

  @Test
  void clearingTheMapUnpublishesEverythingOnEveryMember() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    o[0].cluster().publishAll(Map.of("c1", new Count("c1", 1), "c2", new Count("c2", 1)));
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().size() == 2);
    }
    map(members.get(0)).clear();
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().size() == 0);
    }
    o[1].cluster().publish("c3", new Count("c3", 1));
    eventually().until(() -> o[0].cluster().service().get("c3").isPresent());
  }

  /** A Publishable that is not a ClusterObject: the factory's mistake. */
  static final class PlainCounter extends Publishable {
    PlainCounter(String identity, long version) {
      super(identity, version);
    }

    @Override
    protected Object publishedState(Object perspective) {
      return new Count("plain", 0);
    }
  }

  @Test
  void aFactoryThatMakesNoClusterObjectIsReportedNamingTheClass() {
    Origin writer = fixture.origin(members.get(0), service);
    ClusterPublishing wrong = cleanup.register(ClusterPublishing.builder()
        .hazelcast(members.get(1)).registry(ClusterFixture.REGISTRY)
        .serverKey(ClusterFixture.KEY).service(service)
        .objects((identity, version, state) -> identity.startsWith("plain")
            ? new PlainCounter(identity, version)
            : new ClusterCounter(identity, version, (Count) state))
        .build());
    java.io.ByteArrayOutputStream logged = new java.io.ByteArrayOutputStream();
    java.io.PrintStream err = System.err;
    System.setErr(new java.io.PrintStream(logged, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      writer.cluster().publish("plain-1", new Count("p", 1));
      writer.cluster().publish("fine-1", new Count("f", 1));
      eventually().until(() -> wrong.service().get("fine-1").isPresent());
      eventually().until(() -> logged.toString(java.nio.charset.StandardCharsets.UTF_8)
          .contains("ObjectFactory made " + PlainCounter.class.getName() + " for plain-1: it"
              + " must make a Publishable implementing ClusterPublishing.ClusterObject"));
    } finally {
      System.setErr(err);
    }
    assertThat(wrong.service().get("plain-1")).isEmpty();
    assertThat(writer.cluster().service().get("plain-1")).isPresent();
  }

  @Test
  void aStateLargerThanTheLimitIsRefusedNamingItAndTheLimit() {
    ClusterPublishing small = cleanup.register(ClusterPublishing.builder()
        .hazelcast(members.get(0)).registry(ClusterFixture.REGISTRY)
        .serverKey(ClusterFixture.KEY).service(service).objects(ClusterFixture.COUNTERS)
        .maxStateBytes(64).build());
    assertThatThrownBy(() -> small.publish("big", new Count("x".repeat(200), 1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("big")
        .hasMessageContaining("maxStateBytes = 64");
    assertThat(small.size()).isZero();
  }

  @Test
  void builderOptionsAreSetOnceAndRequired() {
    ClusterPublishing.Builder b = ClusterPublishing.builder().service(service);
    assertThatThrownBy(() -> b.service("again"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("ClusterPublishing.Builder.service was already set");
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("needs hazelcast");
  }

  @Test
  void membersListsTheAdvertisedAddressesOfLiveMembers() {
    Origin[] o = threeOrigins();
    o[0].cluster().advertise("127.0.0.1", 7001);
    o[1].cluster().advertise("localhost", 7002);
    o[1].cluster().advertise("::1", 7003);    // replaces its address
    assertThat(o[2].cluster().members()).containsExactly("127.0.0.1:7001", "[::1]:7003");
    // A client learns the same list from any member's publishing endpoint.
    PbClient client = cleanup.register(
        PbClient.builder().inProcess(o[2].address()).registry(ClusterFixture.REGISTRY).build());
    assertThat(PublishedClient.builder().store(fixture.store())
            .expectedServerId(ClusterFixture.KEY.serverId()).build()
            .members(client.rootObject().join()).join())
        .extracting(a -> a.getHostString() + ":" + a.getPort())
        .containsExactly("127.0.0.1:7001", "::1:7003");
    o[0].cluster().close();
    assertThat(o[2].cluster().members()).containsExactly("[::1]:7003");
    assertThatThrownBy(() -> o[2].cluster().advertise("bad host", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad host");
    assertThatThrownBy(() -> o[2].cluster().advertise("h", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port 0");
  }

  static List<Long> withoutRepeats(List<Long> versions) {
    List<Long> out = new ArrayList<>();
    for (Long v : versions) {
      if (out.isEmpty() || !out.get(out.size() - 1).equals(v)) {
        out.add(v);
      }
    }
    return out;
  }

  static boolean isSubsequence(List<Long> part, List<Long> whole) {
    int i = 0;
    for (Long v : whole) {
      if (i < part.size() && part.get(i).equals(v)) {
        i++;
      }
    }
    return i == part.size();
  }
}
