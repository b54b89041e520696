package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.cred.Avatar;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.internal.TestAccess;
import io.pbj.testing.PbCleanup;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Decoding costs work linear in a message's bytes whatever a peer sends, and large messages are
 * decoded off the event loop without reordering anything: over TCP, with raw hostile peers where
 * the bytes matter.
 */
@Timeout(120)
class TcpDecodeLimitsTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static final int ELEMENTS = 32_768;

  /** Counts every equals call made on the server (same JVM) while a set is built. */
  static final AtomicLong EQUALS = new AtomicLong();

  /** A registered element whose hash code the sender chooses and whose equals is counted. */
  record CountingKey(int id, int hash) {
    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public boolean equals(Object o) {
      EQUALS.incrementAndGet();
      return o instanceof CountingKey k && k.id == id && k.hash == hash;
    }
  }

  static final PbRegistry REGISTRY = PbRegistry.builder().register(CountingKey.class).build();

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** What the server's root saw, in order. */
  static final class Sink implements Referenceable {
    final List<Integer> order = new CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();

    @Remote
    public int size(Object value) {
      calls.incrementAndGet();
      return value instanceof Collection<?> c
          ? c.size()
          : value instanceof Map<?, ?> m ? m.size() : -1;
    }

    @Remote
    public int note(int seq, byte[] payload) {
      calls.incrementAndGet();
      order.add(seq);
      return payload.length;
    }

    @Remote
    public String echo(String text) {
      return text;
    }
  }

  @AfterEach
  void removeHook() {
    TestAccess.beforeOffloadedDecode(null);
  }

  private PbServer portalServer() {
    Portal portal =
        Portal.builder(
                (id, mind, connection) ->
                    CompletableFuture.completedFuture(new Avatar(new Sink(), () -> {})))
            .checker(PasswordChecker.builder().user("alice", "secret").build())
            .build();
    return cleanup.register(
        TestTransport.TCP
            .serverBuilder()
            .registry(REGISTRY)
            .rootFactory(portal::root)
            // the smaller limit before login would refuse these messages unread: the decoder
            // must hold on its own, for logged-in peers and servers that lift that limit
            .maxMessageSizeBeforeLogin(0)
            .build()
            .start());
  }

  private PbServer sinkServer(Sink sink, int workerThreads) {
    return cleanup.register(
        TestTransport.TCP
            .serverBuilder()
            .registry(REGISTRY)
            .workerThreads(workerThreads)
            .root(sink)
            .build()
            .start());
  }

  /** Lists [a, K - 31a]: all of them share one hash code (List.hashCode is 31-polynomial). */
  static List<Object> collidingLists(int n) {
    List<Object> lists = new ArrayList<>(n);
    for (int a = 0; a < n; a++) {
      lists.add(new ArrayList<>(List.of(a, 1_000_000 - 31 * a)));
    }
    return lists;
  }

  /** The same shape with distinct hash codes. */
  static List<Object> ordinaryLists(int n) {
    List<Object> lists = new ArrayList<>(n);
    for (int a = 0; a < n; a++) {
      lists.add(new ArrayList<>(List.of(a, 1_000_000 - 29 * a)));
    }
    return lists;
  }

  private static String awaitMessage(RawPeer peer, String prefix) {
    String[] found = new String[1];
    await()
        .atMost(WAIT)
        .until(
            () -> {
              for (String line : TestAccess.messages(peer.received(), REGISTRY)) {
                if (line.startsWith(prefix)) {
                  found[0] = line;
                  return true;
                }
              }
              return false;
            });
    return found[0];
  }

  @Test
  void collidingSetAndMapBeforeLoginAreRefusedAsHashFloodingAndTheConnectionGoesOn() {
    PbServer server = portalServer();
    List<Object> colliding = collidingLists(ELEMENTS);
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < ELEMENTS; i++) {
      values.add(i);
    }
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(TestAccess.preambleAndHello(REGISTRY));
      byte[] set = TestAccess.call(REGISTRY, 1, "scramStart", TestAccess.unhashedSet(colliding));
      assertThat(set.length).as("a message of the report's size").isGreaterThan(250_000);
      peer.send(set);
      assertThat(awaitMessage(peer, "ERROR 1 "))
          .contains("LIMIT_EXCEEDED")
          .contains("argument of call to 'scramStart' was refused")
          .contains("hash flooding: a HashSet of " + ELEMENTS + " elements has " + ELEMENTS
              + " elements sharing one hash code")
          .contains("probe budget");

      peer.send(
          TestAccess.call(
              REGISTRY, 2, "scramStart", TestAccess.unhashedMap(colliding, values)));
      assertThat(awaitMessage(peer, "ERROR 2 "))
          .contains("LIMIT_EXCEEDED")
          .contains("hash flooding: a HashMap of " + ELEMENTS + " elements");

      // an ordinary set of the same size is decoded: the login root then refuses its type
      peer.send(
          TestAccess.call(
              REGISTRY, 3, "scramStart", TestAccess.unhashedSet(ordinaryLists(ELEMENTS))));
      assertThat(awaitMessage(peer, "ERROR 3 "))
          .doesNotContain("LIMIT_EXCEEDED")
          .doesNotContain("UNSERIALIZABLE");
      assertThat(peer.closedWithin(Duration.ZERO)).as("connection still open").isFalse();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void collidingElementsAreRefusedBeforeAnyEqualsCall() throws Exception {
    Sink sink = new Sink();
    PbServer server = sinkServer(sink, 1);
    List<Object> keys = new ArrayList<>();
    for (int i = 0; i < ELEMENTS; i++) {
      keys.add(new CountingKey(i, 42));
    }
    EQUALS.set(0);
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(TestAccess.preambleAndHello(REGISTRY));
      peer.send(TestAccess.call(REGISTRY, 1, "size", TestAccess.unhashedSet(keys)));
      assertThat(awaitMessage(peer, "ERROR 1 "))
          .contains("LIMIT_EXCEEDED")
          .contains("hash flooding");
    }
    // before the fix: 536,854,528 equals calls (n^2/2) and six seconds on the event loop
    assertThat(EQUALS.get()).isZero();
    assertThat(sink.calls).hasValue(0);
  }

  @Test
  void collisionsWithinTheProbeBudgetCostAtMostTheBudgetInEqualsCalls() throws Exception {
    Sink sink = new Sink();
    PbServer server = sinkServer(sink, 1);
    // groups of 64 elements sharing a hash code: an honest but unlucky set, which is accepted
    List<Object> keys = new ArrayList<>();
    for (int i = 0; i < ELEMENTS; i++) {
      keys.add(new CountingKey(i, i / 64));
    }
    byte[] call = TestAccess.call(REGISTRY, 1, "size", TestAccess.unhashedSet(keys));
    EQUALS.set(0);
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(TestAccess.preambleAndHello(REGISTRY));
      peer.send(call);
      assertThat(awaitMessage(peer, "ANSWER 1 ")).isEqualTo("ANSWER 1 " + ELEMENTS);
    }
    assertThat(EQUALS.get())
        .as("equals calls made building the set")
        .isPositive()
        .isLessThanOrEqualTo(TestAccess.probeBudget(call.length));
  }

  private static long heapAfterGc() {
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  @Test
  void aListOfEmptyMapsIsRefusedByTheAllocationBudgetAndTheServerGoesOn() throws Exception {
    Sink sink = new Sink();
    PbServer server = sinkServer(sink, 1);
    // 4 Mi empty maps, one byte each on the wire: 218 MB on the heap if decoded
    byte[] call =
        TestAccess.call(REGISTRY, 1, "size", TestAccess.repeatedList(new HashMap<>(), 4 << 20));
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long[] decodeThread = new long[2];
    TestAccess.beforeOffloadedDecode(
        () -> {
          decodeThread[0] = Thread.currentThread().getId();
          decodeThread[1] = threads.getThreadAllocatedBytes(decodeThread[0]);
        });
    long heapBefore = heapAfterGc();
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(TestAccess.preambleAndHello(REGISTRY));
      peer.send(call);
      assertThat(awaitMessage(peer, "ERROR 1 "))
          .contains("LIMIT_EXCEEDED")
          .contains("the argument of call to 'size' was refused")
          .contains("decodes to more than the allocation budget of")
          .contains("(16 x its");
      long allocated = threads.getThreadAllocatedBytes(decodeThread[0]) - decodeThread[1];
      // the copy of the message, then at most the budget (the unbounded decode: ~55 x)
      assertThat(allocated)
          .as("bytes the decode thread allocated")
          .isLessThan(TestAccess.allocationBudget(call.length) + 3L * call.length);
      assertThat(heapAfterGc() - heapBefore).as("heap kept").isLessThan(32L << 20);

      // the same connection goes on
      peer.send(TestAccess.call(REGISTRY, 2, "size", List.of(1, 2, 3)));
      assertThat(awaitMessage(peer, "ANSWER 2 ")).isEqualTo("ANSWER 2 3");
    }
    assertThat(sink.calls).hasValue(1);
  }

  @Test
  void otherClientsOnTheSameEventLoopKeepCallingWhileALargeMessageIsDecoded() throws Exception {
    Sink sink = new Sink();
    PbServer server = sinkServer(sink, 1); // one event loop for every connection
    CountDownLatch decoding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    TestAccess.beforeOffloadedDecode(
        () -> {
          if (first.compareAndSet(true, false)) {
            decoding.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
    RemoteReference attacker =
        cleanup.register(TestTransport.TCP.clientBuilder(server).registry(REGISTRY).build())
            .rootObject()
            .join();
    RemoteReference victim =
        cleanup.register(TestTransport.TCP.clientBuilder(server).registry(REGISTRY).build())
            .rootObject()
            .join();

    byte[] large = new byte[4 * TestAccess.inlineDecodeMax()];
    CompletableFuture<Object> held = attacker.callRemote("note", -1, large);
    assertThat(decoding.await(WAIT.toSeconds(), TimeUnit.SECONDS)).as("decode started").isTrue();
    try {
      for (int i = 0; i < 100; i++) {
        assertThat(victim.callRemote("echo", "call " + i).get(WAIT.toSeconds(), TimeUnit.SECONDS))
            .isEqualTo("call " + i);
      }
      assertThat(held).as("the large message is still being decoded").isNotDone();
    } finally {
      release.countDown();
    }
    assertThat(held.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo(large.length);
  }

  @Test
  void messagesOfMixedSizesAreDeliveredInTheOrderSent() throws Exception {
    Sink sink = new Sink();
    PbServer server = sinkServer(sink, 1);
    RemoteReference root =
        cleanup.register(TestTransport.TCP.clientBuilder(server).registry(REGISTRY).build())
            .rootObject()
            .join();
    Random random = new Random(7);
    int inline = TestAccess.inlineDecodeMax();
    int[] sizes = {0, 10, 1000, inline, inline + 1, 3 * inline, 600_000};
    List<CompletableFuture<Object>> answers = new ArrayList<>();
    List<Integer> sent = new ArrayList<>();
    for (int seq = 0; seq < 120; seq++) {
      byte[] payload = new byte[sizes[random.nextInt(sizes.length)]];
      sent.add(seq);
      answers.add(root.callRemote("note", seq, payload));
    }
    for (CompletableFuture<Object> a : answers) {
      a.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }
    assertThat(sink.order).containsExactlyElementsOf(sent);
  }

  @Test
  void closingAConnectionWithDecodesQueuedReleasesEverything() throws Exception {
    Sink sink = new Sink();
    CompletableFuture<PbException> closed = new CompletableFuture<>();
    PbServer server =
        cleanup.register(
            TestTransport.TCP
                .serverBuilder()
                .registry(REGISTRY)
                .root(sink)
                .onDisconnect((c, e) -> closed.complete(e))
                .build()
                .start());
    CountDownLatch decoding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    TestAccess.beforeOffloadedDecode(
        () -> {
          decoding.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    byte[] large = new byte[3 * TestAccess.inlineDecodeMax()];
    try {
      try (RawPeer peer = new RawPeer(server.localAddress())) {
        peer.send(TestAccess.preambleAndHello(REGISTRY));
        for (int i = 0; i < 4; i++) {
          peer.send(TestAccess.call(REGISTRY, 10 + i, "note", i, large));
          peer.send(TestAccess.call(REGISTRY, 20 + i, "note", 100 + i, new byte[10]));
        }
        assertThat(decoding.await(WAIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        PbConnection onServer = server.connections().iterator().next();
        await().atMost(WAIT).until(() -> onServer.stats().messagesReceived() == 9);
      }
      assertThat(closed.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isNotNull();
    } finally {
      release.countDown();
    }
    // PbCleanup checks that no buffer of the queued messages leaked
  }
}
