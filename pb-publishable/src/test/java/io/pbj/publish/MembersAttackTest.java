package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbServer;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.Viewable;
import io.pbj.publish.internal.AttachReply;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A hostile server answers the endpoint's {@code members()} with anything: junk entries, a huge
 * list, huge strings, values that are not strings, an answer that is not a list, or no answer at
 * all. The client keeps only well-formed {@code host:port} entries, bounded, and its attach never
 * waits on the answer. A member list that sends the client to an impostor redirects it, but the
 * impostor cannot pass the server-id proof, so the client is never fed another server's objects.
 * Real TCP on loopback.
 */
@Timeout(60)
class MembersAttackTest {
  static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** A real endpoint whose {@code members()} answers what the test says. */
  public static final class HostileEndpoint implements Viewable {
    private final PublishingService.Endpoint own;
    private final Supplier<CompletableFuture<Object>> members;

    HostileEndpoint(PbConnection connection, PublishingService own,
        Supplier<CompletableFuture<Object>> members) {
      this.own = (PublishingService.Endpoint) own.endpoint(connection);
      this.members = members;
    }

    @Remote
    public AttachReply attach(Object perspective, String expectedServerId, String service,
        String key, String[] identities, long[] versions, String[] only, byte[] nonce,
        byte[] relayKey, RemoteReference sink) {
      return own.attach(perspective, expectedServerId, service, key, identities, versions, only,
          nonce, relayKey, sink);
    }

    @Remote
    public List<Object> fetch(Object perspective, String[] identities) {
      return own.fetch(perspective, identities);
    }

    @Remote
    public CompletableFuture<Object> members(Object perspective) {
      return members.get();
    }
  }

  PbServer serve(java.util.function.Function<PbConnection, Object> root) {
    return cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(root).build().start());
  }

  PbServer hostile(Supplier<CompletableFuture<Object>> members) {
    PublishingService real = ServerIdProofTest.real(5);
    return serve(c -> new HostileEndpoint(c, real, members));
  }

  PbServer answering(Object answer) {
    return hostile(() -> CompletableFuture.completedFuture(answer));
  }

  RemoteReference connect(PbServer server) {
    return client(server).rootObject().join();
  }

  PbClient client(PbServer server) {
    return cleanup.register(PbClient.builder().address("127.0.0.1", server.port())
        .registry(PublishingTest.REGISTRY).build());
  }

  /** A client of stores that learns the members through {@code pb}. */
  PublishedClient learning(PbClient pb) {
    return PublishedClient.builder().store(store()).expectedServerId(PublishingTest.ORIGIN)
        .learnMembers(pb).build();
  }

  SnapshotStore store() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  PublishedClient client() {
    return PublishedClient.builder().store(store()).expectedServerId(PublishingTest.ORIGIN)
        .build();
  }

  static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  List<InetSocketAddress> membersOf(Object answer) throws Exception {
    return get(client().members(connect(answering(answer))));
  }

  @Test
  void junkEntriesAreSkippedAndTheWellFormedOnesKept() throws Exception {
    List<Object> junk = new ArrayList<>();
    junk.add(null);
    junk.add(42);
    junk.add(List.of("a.example.com:1"));      // nested: not a string
    junk.add("x".repeat(100_000) + ":1");     // huge
    junk.add("no-port");
    junk.add("host:0");
    junk.add("evil\nhost:1");
    junk.add(new byte[] {1, 2, 3});
    junk.add("good.example.com:7000");
    junk.add("GOOD.example.com:7000");          // duplicate in another case
    junk.add("[2001:db8::1]:7001");
    assertThat(membersOf(junk)).containsExactly(
        InetSocketAddress.createUnresolved("good.example.com", 7000),
        InetSocketAddress.createUnresolved("2001:db8::1", 7001));
  }

  @Test
  void aHugeListIsReadOnlyUpToTheBound() throws Exception {
    List<String> huge = new ArrayList<>(20_000);
    for (int i = 0; i < 20_000; i++) {
      huge.add("m" + i + ".example.com:7000");
    }
    List<InetSocketAddress> got = membersOf(huge);
    assertThat(got).hasSize(PbClient.MAX_ADDRESSES);
    assertThat(got.get(0)).isEqualTo(InetSocketAddress.createUnresolved("m0.example.com", 7000));
  }

  @Test
  void aListOfOnlyHugeStringsGivesNone() throws Exception {
    List<String> huge = new ArrayList<>(Collections.nCopies(64, "h".repeat(200_000) + ":1"));
    assertThat(membersOf(huge)).isEmpty();
  }

  @Test
  void anAnswerThatIsNotAListGivesNone() throws Exception {
    assertThat(membersOf("a.example.com:7000")).isEmpty();
    assertThat(membersOf(7000)).isEmpty();
    assertThat(membersOf(new java.util.HashMap<>(java.util.Map.of("a", "b:1")))).isEmpty();
    assertThat(membersOf(null)).isEmpty();
  }

  @Test
  void aMembersCallThatFailsFailsWithTheServersError() {
    PbServer server = hostile(() -> CompletableFuture.failedFuture(
        new PbException(PbException.Code.BAD_ARGUMENTS, "no members for you")));
    Throwable t = catchThrowable(() -> get(client().members(connect(server))));
    assertThat(t).isNotNull();
    assertThat(PbException.unwrap(t)).hasMessageContaining("no members for you");
  }

  @Test
  void anAttachDoesNotWaitOnAMembersCallThatNeverAnswers() throws Exception {
    CompletableFuture<Object> never = new CompletableFuture<>();
    List<CompletableFuture<Object>> asked = new CopyOnWriteArrayList<>();
    PbServer server = hostile(() -> {
      asked.add(never);
      return never;
    });
    PbClient pb = client(server);
    RemoteReference root = pb.rootObject().join();
    List<InetSocketAddress> before = pb.addresses();
    PublishedClient learning = learning(pb);
    Attachment a = get(learning.attach(root, "world"));
    assertThat(a.objects()).hasSize(5);
    assertThat(a.proven()).isTrue();
    await().atMost(WAIT).until(() -> !asked.isEmpty());
    assertThat(pb.addresses()).isEqualTo(before);
    // the connection still serves other calls while members() hangs
    assertThat(get(root.callRemote("fetch", (Object) new String[] {"tile-1"}))).isNotNull();
  }

  @Test
  void aJunkAnswerLeavesTheLearningClientsAddressesAlone() throws Exception {
    List<Object> junk = List.of(1, 2, "nope", "x".repeat(1000));
    PbServer server = answering(new ArrayList<>(junk));
    PbClient pb = client(server);
    RemoteReference root = pb.rootObject().join();
    List<InetSocketAddress> before = pb.addresses();
    PublishedClient learning = learning(pb);
    get(learning.attach(root, "world"));
    // ask again through the same path and wait for it: the learner's update would be in order
    assertThat(get(learning.members(root))).isEmpty();
    assertThat(pb.addresses()).isEqualTo(before);
  }

  @Test
  void membersPointingToAnImpostorRedirectButItsObjectsAreRefused() throws Exception {
    PublishingService impostorService = ServerIdProofTest.impostor(5);
    PbServer impostor = serve(impostorService::endpoint);
    String impostorAt = "127.0.0.1:" + impostor.port();
    PbServer member = answering(new ArrayList<>(List.of(impostorAt)));

    List<Throwable> failures = new CopyOnWriteArrayList<>();
    List<Attachment> attached = new CopyOnWriteArrayList<>();
    SnapshotStore store = store();
    java.util.concurrent.atomic.AtomicReference<PublishedClient> holder =
        new java.util.concurrent.atomic.AtomicReference<>();
    PbClient pb = cleanup.register(PbClient.builder()
        .address("127.0.0.1", member.port())
        .registry(PublishingTest.REGISTRY)
        .reconnect(io.pbj.ReconnectPolicy.exponential(Duration.ofMillis(20),
            Duration.ofMillis(200)))
        .onSession(root -> holder.get().attach(root, "world").handle((a, f) -> {
          if (f != null) {
            failures.add(f);
          } else {
            attached.add(a);
          }
          return root;
        }))
        .build());
    holder.set(PublishedClient.builder().store(store).expectedServerId(PublishingTest.ORIGIN)
        .mode(PublishedClient.Mode.INVENTORY).learnMembers(pb).build());
    pb.start();

    await().atMost(WAIT).until(() -> attached.size() == 1);
    InetSocketAddress impostorAddress =
        InetSocketAddress.createUnresolved("127.0.0.1", impostor.port());
    await().atMost(WAIT).until(() -> pb.addresses().contains(impostorAddress));
    store.flush();
    ServerIdProofTest.assertHoldsTheRealWorld(store, 5);

    member.shutdown();
    assertThat(member.awaitTermination(WAIT)).isTrue();
    await().atMost(WAIT).until(() -> !failures.isEmpty());

    Throwable refused = PbException.unwrap(failures.get(0));
    assertThat(refused).isInstanceOf(PublishException.class);
    assertThat(((PublishException) refused).code())
        .isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(attached).hasSize(1);
    store.flush();
    ServerIdProofTest.assertHoldsTheRealWorld(store, 5);
  }
}
