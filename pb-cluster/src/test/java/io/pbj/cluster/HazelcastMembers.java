package io.pbj.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Embedded Hazelcast members of one test cluster on loopback: a cluster name of their own, TCP-IP
 * join on 127.0.0.1 (no multicast), few partitions and short join waits, so a class starts its
 * members in seconds. Close shuts down every member still running.
 */
final class HazelcastMembers implements AutoCloseable {
  private static final int PORTS = 10;

  private final String clusterName = "pbj-test-" + UUID.randomUUID();
  /** A base port per instance, so two test JVMs rarely probe each other's ports. */
  private final int basePort = 20000 + ThreadLocalRandom.current().nextInt(2000) * PORTS;
  private final List<HazelcastInstance> started = new ArrayList<>();

  /** Starts {@code n} members, each joining the ones before it. */
  static HazelcastMembers start(int n) {
    HazelcastMembers members = new HazelcastMembers();
    for (int i = 0; i < n; i++) {
      members.startMember();
    }
    return members;
  }

  /** Starts one more member of this cluster; it has joined when this returns. */
  synchronized HazelcastInstance startMember() {
    Config config = new Config();
    config.setClusterName(clusterName);
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "slf4j");
    config.setProperty("hazelcast.partition.count", "31");
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "0");
    config.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", "6");
    NetworkConfig network = config.getNetworkConfig();
    network.setPort(basePort).setPortAutoIncrement(true).setPortCount(PORTS);
    network.getInterfaces().setEnabled(true).addInterface("127.0.0.1");
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    join.getTcpIpConfig().setEnabled(true);
    for (int port = basePort; port < basePort + PORTS; port++) {
      join.getTcpIpConfig().addMember("127.0.0.1:" + port);
    }
    HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
    started.add(member);
    return member;
  }

  /** The {@code i}th member started (0-based). */
  synchronized HazelcastInstance get(int i) {
    return started.get(i);
  }

  @Override
  public synchronized void close() {
    for (HazelcastInstance member : started) {
      if (member.getLifecycleService().isRunning()) {
        member.getLifecycleService().terminate();
      }
    }
    started.clear();
  }
}
