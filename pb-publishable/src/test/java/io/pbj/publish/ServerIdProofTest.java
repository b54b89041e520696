package io.pbj.publish;

import io.pbj.PbException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pbj.PbClient;
import io.pbj.PbConnection;
import io.pbj.PbServer;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import io.pbj.Viewable;
import io.pbj.publish.PublishedClient.Mode;
import io.pbj.publish.internal.AttachReply;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import io.pbj.store.SnapshotEntry;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotPrefix;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Server ids are proven, not claimed (issue 9, item 11), over TCP on loopback: an impostor
 * server that claims the real server's id, replayed and forged proofs, and a man in the middle
 * that relays the client's nonce to the real server, with and without TLS.
 */
@Timeout(120)
class ServerIdProofTest {
  /** Objects of the reported attack's worlds; the other tests use {@link #FEW}. */
  static final int OBJECTS = 2000;

  static final int FEW = 50;
  static final char[] PASSWORD = "changeit".toCharArray();

  @TempDir static Path certificates;
  static Path realP12;
  static Path impostorP12;

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @BeforeAll
  static void makeCertificates() throws Exception {
    realP12 = Certificates.selfSigned(certificates, "real", PASSWORD);
    impostorP12 = Certificates.selfSigned(certificates, "impostor", PASSWORD);
  }

  static List<Tile> tiles(String terrain, int n) {
    List<Tile> tiles = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      tiles.add(new Tile("tile-" + i, terrain + i, 1));
    }
    return tiles;
  }

  /** The real server: its key proves {@link PublishingTest#ORIGIN}. */
  static PublishingService real(int objects) {
    PublishingService s = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").build();
    s.publishAll(tiles("grass-", objects));
    return s;
  }

  /**
   * A server that claims the real server's id without its key, as a modified server would (the
   * builder refuses a self-certifying id as an unproven claim; the relay path does not check).
   */
  static PublishingService impostor(int objects) {
    PublishingService s =
        PublishingService.builder().relayOf(PublishingTest.ORIGIN, null).service("world").build();
    s.publishAll(tiles("evil-", objects));
    return s;
  }

  PbServer serve(Function<PbConnection, Object> root, Path p12) {
    PbServer.Builder b = PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(root);
    if (p12 != null) {
      b.tls(p12, PASSWORD);
    }
    return cleanup.register(b.build().start());
  }

  PbServer serve(PublishingService service) {
    return serve(service::endpoint, null);
  }

  RemoteReference connect(PbServer server) {
    PbClient.Builder b = PbClient.builder().address("127.0.0.1", server.port())
        .registry(PublishingTest.REGISTRY);
    if (server.tlsFingerprint() != null) {
      b.tlsPinnedSha256(server.tlsFingerprint());
    }
    return cleanup.register(b.build()).rootObject().join();
  }

  SnapshotStore store() {
    return cleanup.register(SnapshotStore.builder().backend(StoreBackend.MEMORY).build());
  }

  static PublishedClient client(SnapshotStore store, Mode mode) {
    return PublishedClient.builder().store(store).mode(mode)
        .expectedServerId(PublishingTest.ORIGIN).build();
  }

  static PublishException refusal(CompletableFuture<?> attach) {
    Throwable t = catchThrowable(() -> attach.get(30, TimeUnit.SECONDS));
    assertThat(t).as("the attach must fail").isNotNull();
    Throwable cause = t.getCause();
    assertThat(cause).isInstanceOf(PublishException.class);
    return (PublishException) cause;
  }

  /** The store holds the real server's {@code n} states at version 1, and nothing else. */
  static void assertHoldsTheRealWorld(SnapshotStore store, int n) {
    assertThat(store.size()).isEqualTo(n);
    List<SnapshotEntry> held = store.list(SnapshotPrefix.of(PublishingTest.ORIGIN));
    assertThat(held).hasSize(n);
    assertThat(held).allMatch(e -> e.version() == 1);
    for (int i = 0; i < n; i += 7) {
      SnapshotKey key = new SnapshotKey(PublishingTest.ORIGIN, "world", "anonymous", "tile-" + i);
      assertThat(new String(store.get(key).orElseThrow().state(), StandardCharsets.UTF_8))
          .isEqualTo("t:grass-" + i);
    }
  }

  // --- the reported attack ---------------------------------------------------------------------

  @Test
  void anImpostorClaimingTheRealIdIsRefusedInBothHandshakesAndTheStoreIsUntouched() {
    PbServer realServer = serve(real(OBJECTS));
    PbServer impostorServer = serve(impostor(OBJECTS));
    for (Mode mode : Mode.values()) {
      SnapshotStore store = store();
      Attachment first = client(store, mode).attach(connect(realServer), "world").join();
      assertThat(first.proven()).isTrue();
      assertThat(first.get("tile-5", TileCache.class).terrain()).isEqualTo("grass-5");
      store.flush();

      PublishException e = refusal(client(store, mode).attach(connect(impostorServer), "world"));
      assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
      assertThat(e).hasMessageContaining("server " + PublishingTest.ORIGIN + " at ")
          .hasMessageContaining("127.0.0.1:" + impostorServer.port())
          .hasMessageContaining("(expected " + PublishingTest.ORIGIN + ")")
          .hasMessageContaining("it sent no proof")
          .hasMessageContaining("nothing was read from or written to the store");
      store.flush();
      assertHoldsTheRealWorld(store, OBJECTS);
    }
  }

  @Test
  void aClientWithoutAnExpectedIdStillNeedsTheProof() {
    PbServer impostorServer = serve(impostor(FEW));
    SnapshotStore store = store();
    PublishException e = refusal(PublishedClient.builder().store(store).mode(Mode.VERSIONS).build()
        .attach(connect(impostorServer), "world"));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(e.getMessage()).doesNotContain("(expected");
    store.flush();
    assertThat(store.size()).isZero();
  }

  /**
   * With unproven ids allowed (trusted networks), the impostor's claim is accepted as it was
   * before ids were proven: the client takes its stored states of the real server as hits, which
   * is exactly why the option is only for networks where no impostor can appear.
   */
  @Test
  void allowingUnprovenIdsAcceptsAClaimAsBefore() {
    PbServer realServer = serve(real(OBJECTS));
    PbServer impostorServer = serve(impostor(OBJECTS));
    SnapshotStore store = store();
    client(store, Mode.INVENTORY).attach(connect(realServer), "world").join();
    PublishedClient trusting = PublishedClient.builder().store(store)
        .expectedServerId(PublishingTest.ORIGIN).allowUnprovenServerIds().build();
    Attachment a = trusting.attach(connect(impostorServer), "world").join();
    assertThat(a.proven()).isFalse();
    assertThat(a.hits()).isEqualTo(OBJECTS);
    assertThat(a.get("tile-5", TileCache.class).terrain())
        .as("the impostor has evil-5, the client believes the stored grass-5").isEqualTo("grass-5");
    assertThat(trusting.attach(connect(realServer), "world").join().proven())
        .as("a real server still proves its id to a trusting client").isTrue();
  }

  // --- forged proofs ---------------------------------------------------------------------------

  /**
   * An endpoint that answers with its own (impostor) objects under the real id and a proof made
   * by {@code forge} from the client's nonce.
   */
  public static final class Forger implements Viewable {
    private final PublishingService.Endpoint own;
    private final Function<byte[], CompletableFuture<ServerProof>> forge;

    Forger(PbConnection connection, PublishingService own,
        Function<byte[], CompletableFuture<ServerProof>> forge) {
      this.own = (PublishingService.Endpoint) own.endpoint(connection);
      this.forge = forge;
    }

    @Remote
    public CompletableFuture<AttachReply> attach(Object perspective, String expectedServerId,
        String service, String key, String[] identities, long[] versions, String[] only,
        byte[] nonce, byte[] relayKey, RemoteReference sink) {
      AttachReply mine = own.attach(
          perspective, expectedServerId, service, key, identities, versions, only, null, null,
          sink);
      return forge.apply(nonce).thenApply(proof -> new AttachReply(mine.serverId(),
          mine.service(), mine.perspectiveKey(), mine.inventoryUsed(), mine.objects(), proof,
          null));
    }

    @Remote
    public List<Object> fetch(Object perspective, String[] identities) {
      return own.fetch(perspective, identities);
    }
  }

  /** The real server's proof for {@code nonce}, asked for on a connection of the forger's own. */
  CompletableFuture<ServerProof> realProof(PbServer realServer, byte[] nonce) {
    RemoteReference upstream = connect(realServer);
    return upstream.callRemote(AttachReply.class, "attach", PublishingTest.ORIGIN, "world",
            "anonymous", null, null, new String[0], nonce, null, null)
        .thenApply(AttachReply::proof);
  }

  PbServer forger(Function<byte[], CompletableFuture<ServerProof>> forge, Path p12) {
    PublishingService own = impostor(FEW);
    return serve(c -> new Forger(c, own, forge), p12);
  }

  @Test
  void aProofSignedOverAnotherNonceIsRefused() {
    PbServer realServer = serve(real(FEW));
    ServerProof recorded = realProof(realServer, IdProof.newNonce()).join();
    assertThat(recorded).isNotNull();
    PbServer replaying = forger(nonce -> CompletableFuture.completedFuture(recorded), null);
    SnapshotStore store = store();
    PublishException e = refusal(client(store, Mode.INVENTORY).attach(connect(replaying), "world"));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(e).hasMessageContaining("does not verify over this attach's nonce");
    store.flush();
    assertThat(store.size()).isZero();
  }

  @Test
  void aTamperedPublicKeyIsRefused() {
    PbServer realServer = serve(real(FEW));
    ServerKey other = ServerKey.generate();
    // Signed correctly over the client's nonce, by a key that is not the id's.
    PbServer ownKey = forger(nonce -> CompletableFuture.completedFuture(
        IdProof.Prover.origin(other).prove(PublishingTest.ORIGIN, "world", "anonymous", nonce,
            new byte[0])), null);
    PublishException e = refusal(client(store(), Mode.INVENTORY).attach(connect(ownKey), "world"));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(e).hasMessageContaining("the public key in its proof is that of server id "
        + other.serverId() + ", not " + PublishingTest.ORIGIN);

    // The real proof for this very nonce, with one bit of the public key flipped.
    PbServer flipped = forger(nonce -> realProof(realServer, nonce).thenApply(p -> {
      byte[] key = p.originKey().clone();
      key[key.length - 1] ^= 1;
      return new ServerProof(key, p.chain(), p.tlsBinding(), p.signature());
    }), null);
    e = refusal(client(store(), Mode.VERSIONS).attach(connect(flipped), "world"));
    assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
    assertThat(e.getMessage())
        .containsAnyOf("is that of server id", "is not an Ed25519 public key");
  }

  @Test
  void aTamperedSignatureOrABadChainIsRefused() {
    PbServer realServer = serve(real(FEW));
    PbServer badSignature = forger(nonce -> realProof(realServer, nonce).thenApply(p -> {
      byte[] sig = p.signature().clone();
      sig[0] ^= 1;
      return new ServerProof(p.originKey(), p.chain(), p.tlsBinding(), sig);
    }), null);
    PublishException e =
        refusal(client(store(), Mode.INVENTORY).attach(connect(badSignature), "world"));
    assertThat(e).hasMessageContaining("does not verify");

    Delegation junk = new Delegation(new byte[44], Long.MAX_VALUE, new byte[64]);
    PbServer longChain = forger(nonce -> realProof(realServer, nonce).thenApply(p ->
        new ServerProof(p.originKey(), List.of(junk, junk, junk, junk), p.tlsBinding(),
            p.signature())), null);
    e = refusal(client(store(), Mode.INVENTORY).attach(connect(longChain), "world"));
    assertThat(e).hasMessageContaining("a delegation chain of 4, more than 3");

    PbServer junkChain = forger(nonce -> realProof(realServer, nonce).thenApply(p ->
        new ServerProof(p.originKey(), List.of(junk), p.tlsBinding(), p.signature())), null);
    e = refusal(client(store(), Mode.INVENTORY).attach(connect(junkChain), "world"));
    assertThat(e).hasMessageContaining("the relay key of delegation 1 is not an Ed25519 public key");

    @SuppressWarnings({"unchecked", "rawtypes"})
    List<Delegation> notDelegations =
        (List) List.of(new io.pbj.publish.internal.HeldState(0, 0, 0));
    PbServer wrongType = forger(nonce -> realProof(realServer, nonce).thenApply(p ->
        new ServerProof(p.originKey(), notDelegations, p.tlsBinding(), p.signature())), null);
    e = refusal(client(store(), Mode.INVENTORY).attach(connect(wrongType), "world"));
    assertThat(e).hasMessageContaining("delegation 1 of its proof is a "
        + io.pbj.publish.internal.HeldState.class.getName());
  }

  // --- a man in the middle relaying the client's nonce ------------------------------------------

  /**
   * The forger relays the client's nonce to the real server and answers the real proof with its
   * own objects. Over TLS the client sees the forger's certificate, not the one the real server
   * signed: refused.
   */
  @Test
  void aProofRelayedFromAnotherTlsConnectionIsRefused() {
    PbServer realServer = serve(real(FEW)::endpoint, realP12);
    PbServer forwarding = forger(nonce -> realProof(realServer, nonce), impostorP12);
    SnapshotStore store = store();

    RemoteReference direct = connect(realServer);
    assertThat(direct.connection().tlsServerCertificateSha256())
        .isEqualTo(realServer.tlsFingerprint());
    assertThat(realServer.connections()).allSatisfy(c ->
        assertThat(c.tlsServerCertificateSha256()).isEqualTo(realServer.tlsFingerprint()));
    Attachment a = client(store, Mode.INVENTORY).attach(direct, "world").join();
    assertThat(a.proven()).as("over TLS, the real server's proof binds its certificate").isTrue();
    store.flush();

    for (Mode mode : Mode.values()) {
      PublishException e = refusal(client(store, mode).attach(connect(forwarding), "world"));
      assertThat(e.code()).isEqualTo(PbException.Code.SERVER_ID_NOT_PROVEN);
      assertThat(e).hasMessageContaining("TLS binding mismatch: the proof was signed for TLS"
              + " certificate " + realServer.tlsFingerprint())
          .hasMessageContaining("this connection presents TLS certificate "
              + forwarding.tlsFingerprint());
      store.flush();
      assertHoldsTheRealWorld(store, FEW);
    }
  }

  /**
   * The documented limit: without TLS there is no certificate to bind, so a man in the middle
   * that relays the client's nonce to the real server passes the proof, and can then answer
   * whatever it likes. The proof stops a server that only claims an id; TLS stops this one.
   */
  @Test
  void withoutTlsAManInTheMiddleRelayingTheNonceIsNotDetected() {
    PbServer realServer = serve(real(FEW));
    assertThat(connect(realServer).connection().tlsServerCertificateSha256()).isNull();
    PbServer forwarding = forger(nonce -> realProof(realServer, nonce), null);
    Attachment a = client(store(), Mode.VERSIONS).attach(connect(forwarding), "world").join();
    assertThat(a.proven()).isTrue();
    assertThat(a.get("tile-5", TileCache.class).terrain()).isEqualTo("evil-5");
  }

  // --- the server's side of the wire -----------------------------------------------------------

  @Test
  void theServerRefusesANonceOrRelayKeyOfTheWrongShape() {
    PbServer realServer = serve(real(FEW));
    RemoteReference endpoint = connect(realServer);
    Throwable t = catchThrowable(() -> endpoint.callRemote(AttachReply.class, "attach",
        PublishingTest.ORIGIN, "world", "anonymous", null, null, new String[0], new byte[31],
        null, null).join());
    assertThat(t).isInstanceOf(CompletionException.class)
        .hasMessageContaining("the nonce must be 32 bytes, got 31");
    t = catchThrowable(() -> endpoint.callRemote(AttachReply.class, "attach",
        PublishingTest.ORIGIN, "world", "anonymous", null, null, new String[0],
        IdProof.newNonce(), new byte[] {1, 2, 3}, null).join());
    assertThat(t).hasMessageContaining("the relay key is not an Ed25519 public key");
    AttachReply noNonce = endpoint.callRemote(AttachReply.class, "attach", PublishingTest.ORIGIN,
        "world", "anonymous", null, null, new String[0], null, null, null).join();
    assertThat(noNonce.proof()).as("no nonce, nothing to sign").isNull();
    assertThat(endpoint.connection().isOpen()).as("bad requests do not cost the connection")
        .isTrue();
  }
}
