package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.Fixtures.Root;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PbCleanup (pb-testing) against real servers and clients. It cannot depend on pb-core, so it
 * knows their threads only by the {@code pbj-} their names start with; these tests hold pb-core
 * to that, so a thread renamed here cannot slip past every test's cleanup unseen.
 */
class PbCleanupOverBrokerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @ParameterizedTest
  @EnumSource(TestTransport.class)
  void everyThreadAServerAndClientStartAreNamedAsPbCleanupExpects(TestTransport transport)
      throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    PbServer server = transport.serverBuilder().root(new Root())
        .registry(Fixtures.registry()).build().start();
    PbClient client = transport.clientBuilder(server).registry(Fixtures.registry()).build();
    try {
      echo(client);
      Set<Thread> started = new HashSet<>(Thread.getAllStackTraces().keySet());
      started.removeAll(before);
      // Not a server's or client's: the JVM's common pool (a client falls back to it once its
      // executor is shut down) and the one JVM-wide java.lang.ref.Cleaner thread ("Cleaner-N")
      // that ImportTable starts when it is loaded, for as long as the JVM runs. Any other thread
      // is one PbCleanup must be able to see.
      started.removeIf(t -> t.getName().startsWith("ForkJoinPool.commonPool-")
          || t.getName().matches("Cleaner-\\d+"));
      assertThat(started).as("threads started by a server and a client over %s", transport)
          .extracting(Thread::getName)
          .isNotEmpty()
          .allMatch(name -> name.startsWith("pbj-"));
    } finally {
      client.close();
      server.close();
    }
  }

  @Test
  void aServerAndClientLeftRunningFailTheCleanupNamingTheirThreads() throws Exception {
    PbCleanup cleanup = new PbCleanup().timeout(Duration.ofMillis(500));
    PbServer server = TestTransport.TCP.serverBuilder().root(new Root())
        .registry(Fixtures.registry()).build().start();
    PbClient client =
        TestTransport.TCP.clientBuilder(server).registry(Fixtures.registry()).build();
    try {
      echo(client);

      assertThatThrownBy(cleanup::close)
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("still running")
          .hasMessageContaining("pbj-accept-")
          .hasMessageContaining("pbj-server-io-")
          .hasMessageFindingMatch("pbj-server-\\d+-\\d+")
          .hasMessageContaining("pbj-client-io-")
          .hasMessageFindingMatch("pbj-client-\\d+-\\d+");
    } finally {
      client.close();
      server.close();
    }
  }

  @ParameterizedTest
  @EnumSource(TestTransport.class)
  void aRegisteredServerAndClientAreClosedAndTheirThreadsHaveEnded(TestTransport transport)
      throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    PbCleanup cleanup = new PbCleanup();
    PbServer server = cleanup.register(transport.serverBuilder().root(new Root())
        .registry(Fixtures.registry()).build().start());
    PbClient client =
        cleanup.register(transport.clientBuilder(server).registry(Fixtures.registry()).build());
    echo(client);
    List<Thread> brokerThreads = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.getName().startsWith("pbj-"))
        .toList();

    cleanup.close();

    assertThat(brokerThreads).as("the broker's threads").isNotEmpty()
        .noneMatch(Thread::isAlive);
    assertThat(server.connections()).isEmpty();
  }

  private static void echo(PbClient client) throws Exception {
    RemoteReference root = client.rootObject().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(root.callRemote("echo", "hi").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("hi");
  }
}
