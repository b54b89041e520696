package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.Fixtures.Root;
import io.pbj.testing.PbCleanup;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Garbage at the socket: each hostile peer is refused with a cause that names the problem, and a
 * well-behaved client on the same server keeps working throughout.
 */
@Timeout(60)
abstract class AbstractHostileInputTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private final CompletableFuture<PbException> refusal = new CompletableFuture<>();
  private PbServer server;
  private RemoteReference goodClient;

  abstract TestTransport transport();

  @BeforeEach
  void start() {
    server =
        cleanup.register(
            transport()
                .serverBuilder()
                .root(new Root())
                .maxMessageSize(1 << 20)
                .onDisconnect(
                    (c, e) -> {
                      if (e.code() != PbException.Code.CONNECTION_LOST) {
                        refusal.complete(e); // closed for a limit: reported as itself
                      } else if (e.getCause() instanceof PbException cause) {
                        refusal.complete(cause);
                      }
                    })
                .build()
                .start());
    goodClient =
        cleanup.register(transport().clientBuilder(server).build()).rootObject().join();
  }

  private PbException refuse(byte[] bytes) throws Exception {
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(bytes);
      assertThat(peer.closedWithin(WAIT)).as("server closed the connection").isTrue();
    }
    PbException cause = refusal.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(goodClient.callRemote("echo", "still here").get(10, TimeUnit.SECONDS))
        .isEqualTo("still here");
    return cause;
  }

  @Test
  void httpRequestIsRefusedAtTheFirstByte() throws Exception {
    PbException e =
        refuse("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(e).hasMessageContaining("first bytes 0x47").hasMessageContaining("HTTP");
  }

  @Test
  void tlsClientHelloIsRefusedAtTheFirstByte() throws Exception {
    byte[] hello = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03};
    PbException e = refuse(hello);
    assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(e).hasMessageContaining("TLS");
  }

  @Test
  void randomBytesAreRefused() throws Exception {
    byte[] noise = new byte[4096];
    new Random(42).nextBytes(noise);
    noise[0] = (byte) 0xA7; // never 'P'
    PbException e = refuse(noise);
    assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(e).hasMessageContaining("not the PBJ preamble");
  }

  @Test
  void protocolVersionZeroIsRefused() throws Exception {
    // any other version passes the preamble: the HELLO settles it (docs/COMPATIBILITY.md)
    PbException e = refuse(new byte[] {'P', 'B', 'J', 0x1A, 0x00, 0x00});
    assertThat(e).hasMessageContaining("version 0");
  }

  @Test
  void hugeFrameLengthIsRefusedBeforeAllocating() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {'P', 'B', 'J', 0x1A, 0x00, 0x01});
    out.write(new byte[] {0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    PbException e = refuse(out.toByteArray());
    assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(e).hasMessageContaining("frame refused");
  }

  @Test
  void hugeCollectionLengthInsideAFrameIsRefusedBeforeAllocating() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {'P', 'B', 'J', 0x1A, 0x00, 0x01});
    // a HELLO claiming 2^28 registry entries in a 6-byte message
    byte[] body = {0x00, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01};
    out.write(new byte[] {0, 0, 0, (byte) (body.length + 1), 0});
    out.write(body);
    PbException e = refuse(out.toByteArray());
    assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(e).hasMessageContaining("claims 268435456 elements");
  }

  @Test
  void emptyFramesWithMoreToFollowAreRefused() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {'P', 'B', 'J', 0x1A, 0x00, 0x01});
    for (int i = 0; i < 10_000; i++) {
      out.write(new byte[] {0, 0, 0, 1, 1}); // length 1: the MORE flag and nothing else
    }
    PbException e = refuse(out.toByteArray());
    assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(e).hasMessageContaining("carries only 0 bytes");
  }

  @Test
  void nestedContainersCannotClaimMoreElementsThanTheMessageHasBytes() {
    // 64 nested arrays, each claiming as many elements as bytes remain: the budget refuses it
    com.esotericsoftware.kryo.kryo5.io.Output o =
        new com.esotericsoftware.kryo.kryo5.io.Output(4096);
    int objectArrayId = 11 + 6; // built-ins start at 11; Object[] is the seventh
    for (int depth = 0; depth < 64; depth++) {
      o.writeVarInt(objectArrayId + 2, true);
      o.writeVarInt(997 - depth * 3, true); // 3 bytes a level: exactly what remains after it
    }
    byte[] value = o.toBytes();
    byte[] bytes = new byte[1000];
    System.arraycopy(value, 0, bytes, 0, value.length);
    io.pbj.internal.TestAccess.assertDecodeFails(
        bytes, "claim more elements than it has bytes");
  }

  @Test
  void nestedListsWhoseElementsMayTakeNoBytesAreHeldByTheAllocationBudget() {
    // An ArrayList's elements may take no bytes (Kryo writes a list of nulls as its length and
    // one class id), so its length is not held to the bytes left; each list is charged its slots
    // before it is created instead. 64 nested lists claiming 100,000 elements each in 1000 bytes.
    com.esotericsoftware.kryo.kryo5.io.Output o =
        new com.esotericsoftware.kryo.kryo5.io.Output(4096);
    int arrayListId = 11 + 7; // built-ins start at 11; ArrayList is the eighth
    for (int depth = 0; depth < 64; depth++) {
      o.writeVarInt(arrayListId + 2, true);
      o.writeVarIntFlag(false, 100_000 + 1, true); // elements of mixed types; length + 1
    }
    byte[] value = o.toBytes();
    byte[] bytes = new byte[1000];
    System.arraycopy(value, 0, bytes, 0, value.length);
    io.pbj.internal.TestAccess.assertDecodeFails(bytes, "decodes to more than the allocation budget");
  }

  @Test
  void nothingAfterARefusedMessageIsDecodedOrRun() throws Exception {
    // The race this guards against: the frames behind a refused message arrive in the same read,
    // so they were already buffered when the refusal happened. Run it many times.
    Root root = new Root();
    java.util.List<Long> decoded = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.List<PbException> causes = new java.util.concurrent.CopyOnWriteArrayList<>();
    PbServer strict =
        cleanup.register(
            transport()
                .serverBuilder()
                .root(root)
                .maxMessageSize(64 << 10)
                .onDisconnect(
                    (c, e) -> {
                      // runs after the channel closed: every read of it has been processed
                      decoded.add(c.stats().messagesReceived());
                      causes.add(e);
                    })
                .build()
                .start());
    int attempts = 50;
    for (int i = 0; i < attempts; i++) {
      byte[] bytes =
          RawPeer.concat(
              RawPeer.preamble(),
              RawPeer.hello(),
              // a message of 64 KiB + 300 bytes: its second frame takes it over the limit
              RawPeer.frame(new byte[(64 << 10) - 1], true),
              RawPeer.frame(new byte[300], false),
              // the tail: must never run
              RawPeer.frame(RawPeer.oneWayCall("remember", "tail-" + i), false));
      try (RawPeer peer = new RawPeer(strict.localAddress())) {
        peer.send(bytes);
        assertThat(peer.closedWithin(WAIT)).as("server closed the connection").isTrue();
      }
    }
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> decoded.size() == attempts);
    // the HELLO and nothing else was decoded on each connection
    assertThat(decoded).containsOnly(1L);
    assertThat(causes)
        .allSatisfy(e -> assertThat(e).hasMessageContaining("larger than the message limit"));
    assertThat(root.remembered).isEmpty();
  }

  @Test
  void messageBeforeTheHandshakeIsRefused() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(new byte[] {'P', 'B', 'J', 0x1A, 0x00, 0x01});
    byte[] ping = {0x07, 0, 0, 0, 0, 0, 0, 0, 1};
    out.write(new byte[] {0, 0, 0, (byte) (ping.length + 1), 0});
    out.write(ping);
    PbException e = refuse(out.toByteArray());
    assertThat(e).hasMessageContaining("expected the registry handshake");
  }
}
