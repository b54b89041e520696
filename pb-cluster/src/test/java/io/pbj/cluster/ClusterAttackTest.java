package io.pbj.cluster;

import static io.pbj.cluster.ClusterPublishingTest.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import io.pbj.PbCodec;
import io.pbj.cluster.ClusterFixture.Origin;
import io.pbj.testing.PbCleanup;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A hostile program in the Hazelcast cluster writes into the maps: a delta whose arguments do not
 * decode, records under huge or odd identities, and advertised addresses that are not addresses
 * or not strings. Each bad entry is skipped; the members keep serving the rest.
 */
@Timeout(120)
class ClusterAttackTest {
  private static HazelcastMembers members;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();
  private final ClusterFixture fixture = new ClusterFixture(cleanup);
  private final String service = "world-" + UUID.randomUUID();

  @BeforeAll
  static void startMembers() {
    members = HazelcastMembers.start(2);
  }

  @AfterAll
  static void stopMembers() {
    members.close();
  }

  private IMap<String, byte[]> map(HazelcastInstance member) {
    return member.getMap(ClusterPublishing.MAP_PREFIX + service);
  }

  private static Count count(Origin o, String identity) {
    return ((ClusterCounter) o.cluster().service().get(identity).orElseThrow()).count();
  }

  @Test
  void aDeltaWhoseArgumentsDoNotDecodeIsSkippedAndLaterChangesApply() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    o[0].cluster().publish("a", new Count("a", 1));
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().get("a").isPresent());
    }
    long v1 = o[1].cluster().service().get("a").orElseThrow().version();
    byte[] state2 = PbCodec.of(ClusterFixture.REGISTRY).encode(new Count("a", 2));
    long v2 = ClusterRecord.versionOf("a", state2);
    map(members.get(0)).put("a",
        ClusterRecord.delta(1_000_000, v2, v1, "add", new byte[] {9, 9, 9, 9}, state2).encode());
    // a later good change from a member reaches every member: the bad delta broke nothing
    o[1].cluster().publish("b", new Count("b", 1));
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().get("b").isPresent());
    }
    o[0].cluster().publish("a", new Count("a", 3));
    for (Origin origin : o) {
      eventually().untilAsserted(() -> assertThat(count(origin, "a")).isEqualTo(new Count("a", 3)));
    }
  }

  @Test
  void recordsUnderHugeAndOddIdentitiesDoNotHarmTheOtherObjects() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    PbCodec codec = PbCodec.of(ClusterFixture.REGISTRY);
    IMap<String, byte[]> map = map(members.get(1));
    String huge = "h".repeat(200_000);
    String odd = "evil\n\u0000\u202eidentity";
    for (String id : List.of(huge, odd, " ")) {
      byte[] s = codec.encode(new Count("x", 1));
      map.put(id, ClusterRecord.whole(1, ClusterRecord.versionOf(id, s), s).encode());
    }
    o[0].cluster().publish("good", new Count("good", 1));
    for (Origin origin : o) {
      eventually().until(() -> origin.cluster().service().get("good").isPresent());
      assertThat(count(origin, "good")).isEqualTo(new Count("good", 1));
    }
    // a client still attaches and sees the good object
    assertThat(fixture.attach(o[1], fixture.store()).objects()).containsKey("good");
  }

  @Test
  void advertisedEntriesThatAreNotAddressesOrNotStringsAreLeftOut() {
    Origin[] o = {fixture.origin(members.get(0), service), fixture.origin(members.get(1), service)};
    o[0].cluster().advertise("127.0.0.1", 7001);
    IMap<String, Object> raw = members.get(0).getMap(ClusterPublishing.CLUSTER_MAP);
    String keyOf1 = "member/" + service + "/" + members.get(1).getCluster().getLocalMember()
        .getUuid();
    for (Object junk : List.<Object>of("x".repeat(1_000_000) + ":1", "not an address",
        "evil\nhost:1", "[zz]:1", "host:", 12345, new byte[] {1, 2})) {
      raw.put(keyOf1, junk);
      assertThat(o[0].cluster().members()).as("with %s", junk.getClass().getSimpleName())
          .containsExactly("127.0.0.1:7001");
    }
  }

  @Test
  void aServerIdEntryThatIsNotAStringFailsTheBuildNamingTheProblem() {
    IMap<String, Object> raw = members.get(0).getMap(ClusterPublishing.CLUSTER_MAP);
    raw.put("serverId/" + service, 12345);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> fixture.origin(members.get(0), service))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("serverId/" + service);
  }
}
