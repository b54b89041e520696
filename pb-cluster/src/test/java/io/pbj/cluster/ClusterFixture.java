package io.pbj.cluster;

import com.hazelcast.core.HazelcastInstance;
import io.pbj.PbClient;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.publish.Attachment;
import io.pbj.publish.PublishedClient;
import io.pbj.publish.Publishing;
import io.pbj.publish.ServerKey;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.util.UUID;

/** Origin members and clients of the cluster tests, closed by a test's {@link PbCleanup}. */
final class ClusterFixture {
  /** Both sides of {@link ClusterCounter}, and its state. */
  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register("test.cluster.Count", Count.class)
      .registerCache("test.cluster.Counter", ClusterCounter.class, RemoteClusterCounter.class)
      .build();

  /** The key every member of the tests' cluster holds. */
  static final ServerKey KEY = ServerKey.generate();

  static final ClusterPublishing.ObjectFactory COUNTERS =
      (identity, version, state) -> new ClusterCounter(identity, version, (Count) state);

  private final PbCleanup cleanup;

  ClusterFixture(PbCleanup cleanup) {
    this.cleanup = cleanup;
  }

  /** One origin member: its cluster publishing and the in-process server of its service. */
  record Origin(ClusterPublishing cluster, PbServer server, String address) {}

  /** An origin of {@code service} on {@code member}, serving in-process. */
  Origin origin(HazelcastInstance member, String service) {
    ClusterPublishing cluster = cleanup.register(ClusterPublishing.builder()
        .hazelcast(member)
        .registry(REGISTRY)
        .serverKey(KEY)
        .service(service)
        .objects(COUNTERS)
        .build());
    String address = "pbj-cluster-test-" + UUID.randomUUID();
    PbServer server = cleanup.register(PbServer.builder().inProcess(address).registry(REGISTRY)
        .rootFactory(cluster.service()::endpoint).build().start());
    return new Origin(cluster, server, address);
  }

  SnapshotStore store() {
    return cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
  }

  /** A client attached to {@code origin}'s service with {@code store}, expecting the key's id. */
  Attachment attach(Origin origin, SnapshotStore store) {
    PbClient client =
        cleanup.register(PbClient.builder().inProcess(origin.address()).registry(REGISTRY).build());
    PublishedClient publishing =
        PublishedClient.builder().store(store).expectedServerId(KEY.serverId()).build();
    return publishing.attach(client.rootObject().join(), origin.cluster().service().service())
        .join();
  }
}
