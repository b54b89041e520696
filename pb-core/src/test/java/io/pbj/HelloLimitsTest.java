package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.internal.TestAccess;
import java.lang.reflect.Array;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * The registry HELLO against the message limits. Each side's first message lists its registry (an
 * id and a class name per registered class, about 50 bytes a class), so a message limit smaller
 * than a HELLO fails every connection at its first message; the builders refuse such limits, and
 * a server's limit before login grows with its own HELLO so that a large registry connects with
 * the defaults.
 */
class HelloLimitsTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  /**
   * {@code n} distinct registrable classes with names of a realistic length: arrays of 1 to 40
   * dimensions of a few dozen JDK and fixture classes, always in the same order.
   */
  static PbRegistry largeRegistry(int n) {
    List<Class<?>> components =
        List.of(
            Integer.class, Long.class, Short.class, Byte.class, Double.class, Float.class,
            Character.class, Boolean.class, StringBuilder.class, java.util.ArrayList.class,
            java.util.LinkedList.class, java.util.HashMap.class, java.util.TreeMap.class,
            java.util.HashSet.class, java.util.TreeSet.class, java.util.ArrayDeque.class,
            java.util.BitSet.class, java.util.UUID.class, java.util.Optional.class,
            java.util.Locale.class, java.time.Instant.class, java.time.Duration.class,
            java.time.LocalDate.class, java.time.LocalTime.class, java.time.LocalDateTime.class,
            java.time.ZonedDateTime.class, java.time.Period.class, java.time.Year.class,
            java.math.BigInteger.class, java.math.BigDecimal.class, java.net.URI.class,
            java.net.InetSocketAddress.class, Fixtures.Point.class, Fixtures.Route.class,
            Fixtures.Nest.class, Fixtures.Empty.class, PbException.Code.class,
            java.util.concurrent.TimeUnit.class, java.time.DayOfWeek.class,
            java.time.Month.class, Thread.State.class, java.util.Random.class,
            java.util.StringJoiner.class, java.util.concurrent.atomic.AtomicInteger.class,
            java.util.concurrent.atomic.AtomicLong.class, java.util.concurrent.CountDownLatch.class,
            java.util.concurrent.ConcurrentHashMap.class, java.util.IdentityHashMap.class,
            java.util.WeakHashMap.class, java.util.PriorityQueue.class);
    PbRegistry.Builder b = PbRegistry.builder();
    int registered = 0;
    for (int dims = 1; registered < n; dims++) {
      for (Class<?> c : components) {
        if (registered == n) {
          break;
        }
        b.register(Array.newInstance(c, new int[dims]).getClass());
        registered++;
      }
    }
    return b.build();
  }

  @Test
  void aLargeRegistryConnectsWithTheDefaultLimits() throws Exception {
    PbRegistry large = largeRegistry(2000);
    int hello = TestAccess.helloSize(large);
    assertThat(hello).as("the HELLO of 2,000 classes").isGreaterThan(64 << 10);

    PbServer server = startServer(b -> b.registry(large));
    RemoteReference ref = get(client(server, b -> b.registry(large)).rootObject());
    assertThat(get(ref.callRemote("echo", "hello"))).isEqualTo("hello");
  }

  @Test
  void theBuildersRefuseAMessageLimitTheirOwnHelloDoesNotFit() {
    int hello = TestAccess.helloSize(PbRegistry.defaults());
    assertThat(hello).isBetween(256, 4096);

    assertThatThrownBy(() -> serverBuilder().root(root).maxMessageSize(512).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.maxMessageSize 512 is smaller than")
        .hasMessageContaining("HELLO of " + hello + " bytes");
    assertThatThrownBy(() -> clientBuilder(startServer()).maxMessageSize(512).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbClient.Builder.maxMessageSize 512 is smaller than")
        .hasMessageContaining("HELLO of " + hello + " bytes");
    assertThatThrownBy(() -> serverBuilder().root(root).maxMessageSizeBeforeLogin(512).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbServer.Builder.maxMessageSizeBeforeLogin 512 is smaller than")
        .hasMessageContaining("HELLO of " + hello + " bytes");

    // the HELLO grows with the registry, and so does what the limits must hold
    int larger = TestAccess.helloSize(largeRegistry(100));
    assertThatThrownBy(
            () -> serverBuilder().root(root).registry(largeRegistry(100)).maxMessageSize(hello).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("HELLO of " + larger + " bytes");

    // exactly the HELLO is enough; 0 turns the limit before login off
    cleanup.register(serverBuilder().root(root).maxMessageSize(Math.max(hello, 256)).build());
    cleanup.register(serverBuilder().root(root).maxMessageSizeBeforeLogin(hello).build());
    cleanup.register(serverBuilder().root(root).maxMessageSizeBeforeLogin(0).build());
  }

  @Test
  void aPeerWhoseHelloExceedsTheLimitBeforeLoginIsToldWhyAndTheServerSaysSo() throws Exception {
    Map<Integer, PbException> closed = new ConcurrentHashMap<>();
    PbServer server =
        startServer(
            b -> b.maxMessageSizeBeforeLogin(8192)
                .onDisconnect(
                    (c, e) -> closed.put(((InetSocketAddress) c.remoteAddress()).getPort(), e)));
    // a client registering far more than the server: registries only have to agree on shared ids
    java.util.concurrent.CompletableFuture<PbException> lost = new java.util.concurrent.CompletableFuture<>();
    client(server, b -> b.registry(largeRegistry(2000)).onDisconnect(lost::complete)).start();
    // The server's HELLO has completed the client's handshake before the server has read the
    // client's: the refusal reaches the client as the GOODBYE that ends its connection.
    PbException failure = get(lost);
    assertThat(failure.code()).isEqualTo(PbException.Code.CONNECTION_LOST);
    assertThat(failure)
        .hasMessageContaining("the peer said goodbye: the server refused the client's registry HELLO")
        .hasMessageContaining("8192 bytes")
        .hasMessageContaining("maxMessageSizeBeforeLogin");
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> closed.size() == 1);
    PbException seen = closed.values().iterator().next();
    assertThat(seen.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(seen)
        .hasMessageContaining("HELLO")
        .hasMessageContaining("8192 bytes")
        .hasMessageContaining("maxMessageSizeBeforeLogin");
  }

  @Test
  void aServerHelloOverTheClientsMessageLimitFailsTheConnectWithTheReason() throws Exception {
    Map<Integer, PbException> closed = new ConcurrentHashMap<>();
    PbServer server =
        startServer(
            b -> b.registry(largeRegistry(200))
                .onDisconnect(
                    (c, e) -> closed.put(((InetSocketAddress) c.remoteAddress()).getPort(), e)));
    PbClient client = client(server, b -> b.maxMessageSize(4096));
    Throwable failure = failureOf(client.rootObject());

    assertThat(failure).isInstanceOf(PbException.class);
    assertThat(((PbException) failure).code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    // The client's frame limit follows its message limit down, so the server's first HELLO
    // frame is what it refuses; the reason says it is the HELLO either way.
    assertThat(failure)
        .hasMessageContaining("4096 bytes")
        .hasMessageContaining("registry HELLO received")
        .hasMessageContaining("register the same classes on both sides, or raise the limit");
    // the server hears why from the client's GOODBYE
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> closed.size() == 1);
    assertThat(closed.values().iterator().next())
        .hasMessageContaining("the peer said goodbye: ")
        .hasMessageContaining("registry HELLO received");
  }
}
