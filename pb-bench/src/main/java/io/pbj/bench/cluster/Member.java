package io.pbj.bench.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import io.pbj.PbServer;
import io.pbj.cluster.ClusterPublishing;
import io.pbj.publish.ServerKey;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One member of the benchmark's origin cluster, in this JVM: an embedded Hazelcast member on
 * loopback (TCP/IP join, no multicast, no phone-home), a {@link ClusterPublishing} of {@link
 * BenchObject}s, and a {@link PbServer} on loopback whose root is the member's endpoint.
 *
 * <p>Thread-safety: thread-safe; {@link #kill} and {@link #close} are called once, by the
 * benchmark's thread.
 */
final class Member implements AutoCloseable {
  final HazelcastInstance hazelcast;
  final ClusterPublishing cluster;
  final PbServer server;
  private final Map<String, BenchObject> objects = new ConcurrentHashMap<>();
  private volatile boolean killed;

  Member(String clusterName, int hazelcastPort, List<String> hazelcastMembers, ServerKey key) {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(hazelcastPort).setPortAutoIncrement(false);
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true).setMembers(hazelcastMembers);
    hazelcast = Hazelcast.newHazelcastInstance(config);
    try {
      cluster = ClusterPublishing.builder()
          .hazelcast(hazelcast)
          .registry(ClusterBench.REGISTRY)
          .serverKey(key)
          .service(ClusterBench.SERVICE)
          .objects((identity, version, state) -> {
            BenchObject o = new BenchObject(identity, version, (byte[]) state);
            objects.put(identity, o);
            return o;
          })
          .build();
      server = PbServer.builder().address("127.0.0.1", 0).registry(ClusterBench.REGISTRY)
          .root(cluster.service().endpoint())
          .maxConnectionsPerAddress(0)    // every client connects from loopback
          .build().start();
      cluster.advertise("127.0.0.1", server.port());
    } catch (RuntimeException e) {
      hazelcast.getLifecycleService().terminate();
      throw e;
    }
  }

  /** Whether this member publishes {@code identity} with exactly {@code state}. */
  boolean holds(String identity, byte[] state) {
    BenchObject o = objects.get(identity);
    return o != null && cluster.service().get(identity).orElse(null) == o
        && Arrays.equals(o.state(), state);
  }

  /** Dies as a crashed process would: Hazelcast terminated (not a graceful leave), server gone. */
  void kill() {
    killed = true;
    hazelcast.getLifecycleService().terminate();
    server.close();
  }

  @Override
  public void close() {
    if (killed) {
      try {
        cluster.close();    // only its threads in this JVM: its Hazelcast member is gone
      } catch (RuntimeException e) {
        // what a dead member could not withdraw, the survivors already dropped
      }
      return;
    }
    server.close();
    cluster.close();
    hazelcast.shutdown();
  }
}
