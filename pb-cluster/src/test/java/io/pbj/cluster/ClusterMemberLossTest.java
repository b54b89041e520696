package io.pbj.cluster;

import static io.pbj.cluster.ClusterPublishingTest.assertClientEqualsMap;
import static io.pbj.cluster.ClusterPublishingTest.assertLocalEqualsMap;
import static io.pbj.cluster.ClusterPublishingTest.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.hazelcast.map.IMap;
import io.pbj.cluster.ClusterFixture.Origin;
import io.pbj.publish.Attachment;
import io.pbj.testing.PbCleanup;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A member crashes while the others keep changing the world (members of its own). */
class ClusterMemberLossTest {
  private final HazelcastMembers members = HazelcastMembers.start(3);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();
  private final ClusterFixture fixture = new ClusterFixture(cleanup);

  @AfterEach
  void stopMembers() {
    members.close();
  }

  @Test
  void whenAMemberCrashesTheOthersKeepPublishingAndTheMapKeepsEveryObject() throws Exception {
    String service = "world";
    Origin[] o = {
      fixture.origin(members.get(0), service),
      fixture.origin(members.get(1), service),
      fixture.origin(members.get(2), service)
    };
    o[0].cluster().advertise("10.0.0.1", 7000);
    o[1].cluster().advertise("10.0.0.2", 7000);
    o[2].cluster().advertise("10.0.0.3", 7000);
    int objects = 60;
    Map<String, Count> states = new HashMap<>();
    for (int i = 0; i < objects; i++) {
      states.put("o-" + i, new Count("o-" + i, 0));
    }
    o[0].cluster().publishAll(states);
    IMap<String, byte[]> map = members.get(1).getMap(ClusterPublishing.MAP_PREFIX + service);
    for (Origin origin : o) {
      eventually().untilAsserted(() -> assertLocalEqualsMap(origin, map));
    }
    Attachment onSecond = fixture.attach(o[1], fixture.store());
    Attachment onThird = fixture.attach(o[2], fixture.store());

    CountDownLatch firstRounds = new CountDownLatch(2);
    AtomicBoolean crashDone = new AtomicBoolean();
    CompletableFuture<Void> second = CompletableFuture.runAsync(
        () -> changes(o[1], 0, objects, firstRounds, crashDone));
    CompletableFuture<Void> third = CompletableFuture.runAsync(
        () -> changes(o[2], 1, objects, firstRounds, crashDone));
    assertThat(firstRounds.await(30, TimeUnit.SECONDS)).isTrue();
    java.util.UUID crashed = members.get(0).getCluster().getLocalMember().getUuid();
    members.get(0).getLifecycleService().terminate();    // a crash: no goodbye
    crashDone.set(true);
    second.get();
    third.get();

    assertThat(map.size()).as("backups kept every object").isEqualTo(objects);
    for (int i = 0; i < objects; i++) {
      assertThat(o[1].cluster().state("o-" + i)).as("o-%s", i).isPresent();
    }
    for (Origin origin : new Origin[] {o[1], o[2]}) {
      eventually().untilAsserted(() -> assertLocalEqualsMap(origin, map));
    }
    for (Attachment client : new Attachment[] {onSecond, onThird}) {
      eventually().untilAsserted(() -> assertClientEqualsMap(client, map));
    }
    eventually().untilAsserted(() ->
        assertThat(o[2].cluster().members()).containsExactly("10.0.0.2:7000", "10.0.0.3:7000"));
    String crashedEntry = "member/" + service + "/" + crashed;
    eventually().untilAsserted(() -> assertThat(
        members.get(1).getMap(ClusterPublishing.CLUSTER_MAP).containsKey(crashedEntry))
        .as("the crashed member's address is withdrawn by the others").isFalse());
  }

  /**
   * Rounds over the objects of parity {@code parity}, each counted up by a checked delta: one
   * round before the crash, rounds while it happens, and two after it.
   */
  private static void changes(
      Origin origin, int parity, int objects, CountDownLatch firstRound, AtomicBoolean crashed) {
    int roundsAfter = 0;
    for (int round = 0; roundsAfter < 2; round++) {
      boolean after = crashed.get();
      for (int i = parity; i < objects; i += 2) {
        String id = "o-" + i;
        while (true) {
          long version = origin.cluster().version(id).orElseThrow();
          Count c = (Count) origin.cluster().state(id).orElseThrow();
          if (origin.cluster().deltaFrom(id, version, new Count(c.name(), c.count() + 1), "add",
              1)) {
            break;
          }
        }
      }
      if (round == 0) {
        firstRound.countDown();
      }
      if (after) {
        roundsAfter++;
      }
    }
  }
}
