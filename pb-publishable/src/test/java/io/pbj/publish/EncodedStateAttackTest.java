package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.PbClient;
import io.pbj.PbCodec;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.EncodedState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import io.pbj.testing.PbCleanup;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Attacks on the encoded typed state (EncodedState) as a hostile server sends it: garbage bytes,
 * bytes of another type, and an encoded value sent to a byte-state client class. The client must
 * refuse what it cannot decode and never store it.
 */
class EncodedStateAttackTest {
  /** Another registered value: what a lying server encodes where a Counter.State belongs. */
  public record Other(String text) {}

  static final PbRegistry REGISTRY = Publishing.register(PbRegistry.builder())
      .register(Counter.State.class)
      .register(Other.class)
      .registerCache(Counter.class, RemoteCounter.class)
      .registerCache(Forger.class, RemoteCounter.class)
      .registerCache(ForgerToBytes.class, TileCache.class)
      .build();
  static final String ORIGIN = TestKeys.id("origin-1");
  static final int COUNTER_FORMAT = PbCodec.of(REGISTRY).formatOf(Counter.State.class);

  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  final String name = "pbj-encoded-attack-" + UUID.randomUUID();
  final PublishingService service =
      PublishingService.builder().serverKey(TestKeys.key("origin-1")).service("world").build();

  /**
   * A hostile server object: its state crosses the wire as whatever encoded bytes it is told,
   * under the Counter.State format (Publishable.wire passes an EncodedState through as it is).
   */
  static class Forger extends Publishable {
    volatile byte[] bytes;

    Forger(String id, byte[] bytes) {
      super(id, 1);
      this.bytes = bytes;
    }

    @Override
    protected Object publishedState(Object perspective) {
      return new EncodedState(bytes);
    }

    @Override
    public int formatVersion() {
      return COUNTER_FORMAT;
    }
  }

  /** A Forger whose client class is a byte-state RemotePublished. */
  static final class ForgerToBytes extends Forger {
    ForgerToBytes(String id, byte[] bytes) {
      super(id, bytes);
    }
  }

  PbServer serve() {
    return cleanup.register(
        PbServer.builder().inProcess(name).registry(REGISTRY).root(service.endpoint()).build()
            .start());
  }

  RemoteReference connect() {
    return cleanup.register(PbClient.builder().inProcess(name).registry(REGISTRY).build())
        .rootObject().join();
  }

  SnapshotStore store() {
    return cleanup.register(PublishingTest.memoryStore());
  }

  PublishedClient client(SnapshotStore store) {
    return PublishedClient.builder().store(store).expectedServerId(ORIGIN).build();
  }

  static SnapshotKey key(String id) {
    return new SnapshotKey(ORIGIN, "world", "anonymous", id);
  }

  static List<byte[]> garbage() {
    PbCodec codec = PbCodec.of(REGISTRY);
    byte[] valid = codec.encode(new Counter.State("score", 4));
    return List.of(
        new byte[0],
        new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F},
        Arrays.copyOf(valid, valid.length - 1),
        Arrays.copyOf(valid, valid.length + 1),
        new byte[1 << 20],
        codec.encode(new Other("wrong")),
        codec.encode(null),
        codec.encode("a string"));
  }

  /** Garbage as the first state of a typed object: the attach refuses it and stores nothing. */
  @Test
  void garbageEncodedStateAtAttachIsRefusedAndNeverStored() throws Exception {
    serve();
    List<byte[]> bad = garbage();
    SnapshotStore store = store();
    for (int i = 0; i < bad.size(); i++) {
      String id = "forged-" + i;
      service.publish(new Forger(id, bad.get(i)));
      CompletableFuture<Attachment> attach = client(store).attach(connect(), "world");
      try {
        Attachment a = attach.get(10, TimeUnit.SECONDS);
        assertThat(a.objects()).as("garbage %d is left out", i).doesNotContainKey(id);
      } catch (java.util.concurrent.ExecutionException refused) {
        assertThat(refused.getCause()).as("garbage %d", i).hasMessageContaining(id);
      }
      store.flush();
      assertThat(store.get(key(id))).as("garbage %d is not stored", i).isEmpty();
      service.unpublish(id);
    }
  }

  /** An encoded value sent to a byte-state client class: refused, nothing stored. */
  @Test
  void encodedStateSentToAByteStateClassIsRefusedAndNeverStored() throws Exception {
    serve();
    service.publish(
        new ForgerToBytes("bytes-0", PbCodec.of(REGISTRY).encode(new Counter.State("s", 1))));
    SnapshotStore store = store();
    CompletableFuture<Attachment> attach = client(store).attach(connect(), "world");
    try {
      Attachment a = attach.get(10, TimeUnit.SECONDS);
      assertThat(a.objects()).doesNotContainKey("bytes-0");
    } catch (java.util.concurrent.ExecutionException refused) {
      assertThat(refused.getCause()).hasMessageContaining(TileCache.class.getName());
    }
    store.flush();
    assertThat(store.get(key("bytes-0"))).isEmpty();
  }

  /**
   * After a good attach, the server pushes garbage as a whole state: the client keeps the value
   * it holds, and the store keeps the good entry (never the garbage).
   */
  @Test
  void garbagePushedAfterAGoodStateIsRefusedAndTheStoreKeepsTheGoodEntry() throws Exception {
    serve();
    byte[] valid = PbCodec.of(REGISTRY).encode(new Counter.State("score", 4));
    Forger f = new Forger("forged", valid);
    service.publish(f);
    SnapshotStore store = store();
    Attachment a = client(store).attach(connect(), "world").get(10, TimeUnit.SECONDS);
    RemoteCounter c = a.get("forged", RemoteCounter.class);
    assertThat(c.value()).isEqualTo(new Counter.State("score", 4));
    for (byte[] bad : garbage()) {
      f.bytes = bad;
      f.republish();
    }
    // a good state after the garbage: once it lands, every garbage push before it was handled
    f.bytes = PbCodec.of(REGISTRY).encode(new Counter.State("score", 5));
    f.republish();
    await().atMost(Duration.ofSeconds(10))
        .until(() -> new Counter.State("score", 5).equals(c.value()));
    store.flush();
    Snapshot s = store.get(key("forged")).orElseThrow();
    assertThat(PbCodec.of(REGISTRY).decode(s.state(), Counter.State.class))
        .isEqualTo(new Counter.State("score", 5));
  }
}
