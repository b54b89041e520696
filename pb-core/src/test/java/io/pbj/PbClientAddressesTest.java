package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pbj.testing.PbCleanup;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A client given several addresses (the members of an origin cluster): it dials the next address
 * after a failure or a loss, takes a new list at run time, and rejects bad addresses clearly.
 * Real TCP servers on loopback.
 */
@Timeout(60)
class PbClientAddressesTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  /** Slow enough that a test would notice a full backoff before the first retry. */
  static final ReconnectPolicy POLICY =
      ReconnectPolicy.exponential(Duration.ofMillis(50), Duration.ofMillis(400));

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** The root: says which server it is. */
  public static final class Member implements Referenceable {
    final String name;

    Member(String name) {
      this.name = name;
    }

    @Remote
    public String name() {
      return name;
    }
  }

  /** Records connections and retries with the addresses they name. */
  static final class Recorder implements ClientListener {
    final List<String> events = new CopyOnWriteArrayList<>();
    final List<SocketAddress> connectedTo = new CopyOnWriteArrayList<>();

    @Override
    public void connected(RemoteReference session, SocketAddress address) {
      connectedTo.add(address);
      events.add("CONNECTED " + PbClient.hostAndPort(address));
    }

    @Override
    public void disconnected(PbException cause) {
      events.add("DISCONNECTED " + cause.code());
    }

    @Override
    public void reconnecting(
        int attempt, Duration delay, PbException lastFailure, SocketAddress next) {
      events.add("RECONNECTING " + attempt + " " + PbClient.hostAndPort(next));
    }
  }

  PbServer member(String name) {
    return cleanup.register(
        PbServer.builder().address("127.0.0.1", 0).root(new Member(name)).build().start());
  }

  static InetSocketAddress at(PbServer server) {
    return InetSocketAddress.createUnresolved("127.0.0.1", server.port());
  }

  static InetSocketAddress deadAddress() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return InetSocketAddress.createUnresolved("127.0.0.1", s.getLocalPort());
    }
  }

  static String nameOf(PbClient client) throws Exception {
    return client
        .session()
        .thenCompose(s -> s.callRemote(String.class, "name"))
        .get(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  static void stop(PbServer server) throws InterruptedException {
    server.shutdown();
    assertThat(server.awaitTermination(WAIT)).isTrue();
  }

  @Test
  void aDeadFirstAddressIsSkippedForTheLiveOne() throws Exception {
    PbServer live = member("live");
    InetSocketAddress dead = deadAddress();
    Recorder recorder = new Recorder();
    PbClient client =
        cleanup.register(
            PbClient.builder()
                .addresses(List.of(dead, at(live)))
                .reconnect(POLICY)
                .listener(recorder)
                .build());
    assertThat(nameOf(client)).isEqualTo("live");
    assertThat(client.currentAddress()).isEqualTo(at(live));
    await().atMost(WAIT).until(() -> recorder.connectedTo.size() == 1);
    assertThat(recorder.events)
        .containsExactly(
            "RECONNECTING 1 127.0.0.1:" + live.port(), "CONNECTED 127.0.0.1:" + live.port());
  }

  @Test
  void withoutAPolicyTheFirstConnectStillTriesEachAddressOnce() throws Exception {
    PbServer live = member("live");
    PbClient client =
        cleanup.register(
            PbClient.builder().addresses(List.of(deadAddress(), at(live))).build());
    assertThat(nameOf(client)).isEqualTo("live");

    PbClient nowhere =
        cleanup.register(
            PbClient.builder().addresses(List.of(deadAddress(), deadAddress())).build());
    PbException e = ReconnectTest.failureOf(nowhere.session());
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECT_FAILED);
  }

  @Test
  void losingAMemberReconnectsToTheNextAndMakesTheSessionAgain() throws Exception {
    PbServer a = member("a");
    PbServer b = member("b");
    AtomicInteger sessionsMade = new AtomicInteger();
    Recorder recorder = new Recorder();
    PbClient client =
        cleanup.register(
            PbClient.builder()
                .addresses(List.of(at(a), at(b)))
                // a slow policy: the move to the next member must not wait for it
                .reconnect(
                    ReconnectPolicy.exponential(Duration.ofSeconds(30), Duration.ofSeconds(60))
                        .withJitter(0))
                .onSession(
                    root -> {
                      sessionsMade.incrementAndGet();
                      return CompletableFuture.completedFuture(root);
                    })
                .listener(recorder)
                .build());
    assertThat(nameOf(client)).isEqualTo("a");
    assertThat(sessionsMade).hasValue(1);

    stop(a);
    await().atMost(WAIT).until(() -> recorder.connectedTo.size() == 2);
    assertThat(nameOf(client)).isEqualTo("b");
    assertThat(sessionsMade).hasValue(2);
    assertThat(recorder.connectedTo).containsExactly(at(a), at(b));
    assertThat(recorder.events)
        .containsExactly(
            "CONNECTED 127.0.0.1:" + a.port(),
            "DISCONNECTED CONNECTION_LOST",
            "RECONNECTING 1 127.0.0.1:" + b.port(),
            "CONNECTED 127.0.0.1:" + b.port());
  }

  @Test
  void theListWrapsAroundToTheFirstAddress() throws Exception {
    PbServer a = member("a");
    PbServer b = member("b");
    int portOfA = a.port();
    PbClient client =
        cleanup.register(
            PbClient.builder().addresses(List.of(at(a), at(b))).reconnect(POLICY).build());
    assertThat(nameOf(client)).isEqualTo("a");
    stop(a);
    await().atMost(WAIT).until(() -> at(b).equals(client.currentAddress()));
    assertThat(nameOf(client)).isEqualTo("b");

    cleanup.register(
        PbServer.builder()
            .address("127.0.0.1", portOfA)
            .root(new Member("a again"))
            .build()
            .start());
    stop(b);
    InetSocketAddress addressOfA = InetSocketAddress.createUnresolved("127.0.0.1", portOfA);
    await().atMost(WAIT).until(() -> addressOfA.equals(client.currentAddress()));
    assertThat(nameOf(client)).isEqualTo("a again");
  }

  @Test
  void updatedAddressesKeepTheConnectionAndServeTheNextAttempt() throws Exception {
    PbServer a = member("a");
    PbServer b = member("b");
    Recorder recorder = new Recorder();
    PbClient client =
        cleanup.register(
            PbClient.builder()
                .address("127.0.0.1", a.port())
                .reconnect(POLICY)
                .listener(recorder)
                .build());
    RemoteReference session = client.session().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(client.addresses()).hasSize(1);

    client.updateAddresses(List.of(at(b)));
    await().atMost(WAIT).until(() -> client.addresses().equals(List.of(at(b))));
    // the connection to a, not in the new list, is kept
    assertThat(session.callRemote(String.class, "name").get(WAIT.toSeconds(), TimeUnit.SECONDS))
        .isEqualTo("a");
    assertThat(a.connections()).hasSize(1);

    stop(a);
    await().atMost(WAIT).until(() -> recorder.connectedTo.size() == 2);
    assertThat(nameOf(client)).isEqualTo("b");
    assertThat(recorder.connectedTo.get(1)).isEqualTo(at(b));
  }

  @Test
  void anUpdateDuringBackoffIsUsedByTheNextAttempt() throws Exception {
    PbServer a = member("a");
    Recorder recorder = new Recorder();
    PbClient client =
        cleanup.register(
            PbClient.builder()
                .addresses(List.of(at(a)))
                .reconnect(
                    ReconnectPolicy.exponential(Duration.ofMillis(200), Duration.ofMillis(400)))
                .listener(recorder)
                .build());
    assertThat(nameOf(client)).isEqualTo("a");
    stop(a);
    await().atMost(WAIT).until(() -> recorder.events.stream().anyMatch(e -> e.startsWith("RECON")));
    PbServer b = member("b");
    client.updateAddresses(List.of(at(b)));
    assertThat(nameOf(client)).isEqualTo("b");
  }

  @Test
  void duplicatesAreDroppedKeepingTheFirst() {
    InetSocketAddress x = InetSocketAddress.createUnresolved("Host.example", 7000);
    InetSocketAddress y = InetSocketAddress.createUnresolved("host.example", 7000);
    InetSocketAddress z = InetSocketAddress.createUnresolved("host.example", 7001);
    PbClient client = cleanup.register(PbClient.builder().addresses(List.of(x, y, z)).build());
    assertThat(client.addresses()).containsExactly(x, z);
  }

  @Test
  void badAddressListsAreRejectedNamingTheProblem() {
    assertThatThrownBy(() -> PbClient.builder().addresses(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbClient.Builder.addresses needs at least one address");
    assertThatThrownBy(() -> PbClient.builder().addresses(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got null");
    List<InetSocketAddress> withNull =
        Arrays.asList(InetSocketAddress.createUnresolved("a", 1), null);
    assertThatThrownBy(() -> PbClient.builder().addresses(withNull))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address 2 is null");
    List<InetSocketAddress> many = new ArrayList<>();
    for (int i = 1; i <= PbClient.MAX_ADDRESSES + 1; i++) {
      many.add(InetSocketAddress.createUnresolved("h" + i, 7000));
    }
    assertThatThrownBy(() -> PbClient.builder().addresses(many))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got 65 addresses; at most 64");
    assertThatThrownBy(
            () -> PbClient.builder().addresses(List.of(InetSocketAddress.createUnresolved("a", 0))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("(a:0) has port 0");
    assertThatThrownBy(
            () ->
                PbClient.builder()
                    .address("localhost", 7000)
                    .addresses(List.of(InetSocketAddress.createUnresolved("a", 1))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("PbClient.Builder.addresses conflicts with PbClient.Builder.address");
    assertThatThrownBy(
            () ->
                PbClient.builder()
                    .addresses(List.of(InetSocketAddress.createUnresolved("a", 1)))
                    .inProcess("x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "PbClient.Builder.inProcess conflicts with PbClient.Builder.addresses");
  }

  @Test
  void updateAddressesRejectsBadListsAndInProcessClients() {
    PbClient tcp = cleanup.register(PbClient.builder().address("localhost", 7000).build());
    assertThatThrownBy(() -> tcp.updateAddresses(List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PbClient.updateAddresses needs at least one address");
    PbClient local = cleanup.register(PbClient.builder().inProcess("nowhere").build());
    assertThat(local.addresses()).isEmpty();
    assertThatThrownBy(
            () -> local.updateAddresses(List.of(InetSocketAddress.createUnresolved("a", 1))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("in-process");
  }

  @Test
  void parseAddressReadsHostsAndBracketedIpv6() {
    assertThat(PbClient.parseAddress("game.example.com:7000"))
        .isEqualTo(InetSocketAddress.createUnresolved("game.example.com", 7000));
    assertThat(PbClient.parseAddress(" 10.0.0.1:1 "))
        .isEqualTo(InetSocketAddress.createUnresolved("10.0.0.1", 1));
    InetSocketAddress v6 = PbClient.parseAddress("[2001:db8::1]:65535");
    assertThat(v6.isUnresolved()).isTrue();
    assertThat(v6.getHostString()).isEqualTo("2001:db8::1");
    assertThat(v6.getPort()).isEqualTo(65535);
    assertThat(PbClient.hostAndPort(v6)).isEqualTo("[2001:db8::1]:65535");
    assertThat(PbClient.parseAddress("[fe80::1%eth0]:7").getHostString())
        .isEqualTo("fe80::1%eth0");
    assertThat(PbClient.parseAddresses("a:1, b:2,[::1]:3"))
        .containsExactly(
            InetSocketAddress.createUnresolved("a", 1),
            InetSocketAddress.createUnresolved("b", 2),
            InetSocketAddress.createUnresolved("::1", 3));
  }

  @Test
  void parseAddressRejectsGarbageSayingWhy() {
    assertBad("localhost", "\"localhost\": no :port");
    assertBad("localhost:", "the port is not a number");
    assertBad("localhost:70000", "port 70000 is out of range 1..65535");
    assertBad("localhost:0", "port 0 is out of range");
    assertBad("localhost:7x", "the port is not a number");
    assertBad(":7000", "empty host");
    assertBad("::1:7000", "an IPv6 address needs brackets");
    assertBad("[::1:7000", "'[' without ']'");
    assertBad("[::1]7000", "no :port after ']'");
    assertBad("[]:7000", "empty host");
    assertBad("[nothost]:7000", "'nothost' between brackets is not an IPv6 address");
    assertBad("bad host:7000", "the host may hold only");
    assertBad("evil\nhost:1", "\"evil\\u000ahost:1\"");
    assertBad("x".repeat(301) + ":1", "longer than 300 characters");
    assertThatThrownBy(() -> PbClient.parseAddress(null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got null");
    assertThatThrownBy(() -> PbClient.parseAddresses(""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("got nothing");
    assertThatThrownBy(() -> PbClient.parseAddresses("a:1,,b:2"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address 2 of \"a:1,,b:2\" is empty");
    assertThatThrownBy(() -> PbClient.parseAddresses("a:1,b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address 2: bad address \"b\": no :port");
    assertThatThrownBy(() -> PbClient.parseAddresses("a:1,".repeat(65)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 64");
  }

  private static void assertBad(String text, String message) {
    assertThatThrownBy(() -> PbClient.parseAddress(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
