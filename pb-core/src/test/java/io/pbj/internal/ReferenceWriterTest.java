package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.testing.PbCleanup;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Encoding through a connection's {@link ReferenceWriter} under small message limits. */
class ReferenceWriterTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  /** A class with a generic field: Kryo's field serializer writes it with the field's type arguments. */
  static final class Bag {
    List<Object> items;
  }

  record Tagged(Map<String, List<Integer>> tags) {}

  record Unregistered(int value) {}

  private static final PbRegistry REGISTRY = PbRegistry.builder().register(Bag.class, Tagged.class).build();

  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final Connection connection =
      new Connection(
          channel,
          TestConfigs.config(REGISTRY, new QueuedExecutor(), Wire.MIN_FRAME, Wire.MIN_FRAME));

  @AfterEach
  void closeChannel() {
    channel.finishAndReleaseAll();
  }

  @Test
  void encodesUnderTheSmallestMessageLimit() {
    ByteBuf buf = connection.encode(new Message.Ping(42));
    try {
      assertThat(buf.readableBytes()).isEqualTo(1 + 8);
    } finally {
      buf.release();
    }
  }

  @Test
  void aValueThatFailsInsideAGenericFieldLeavesTheNextEncodeIntact() {
    // Kryo's type arguments of the Bag's List<Object> field stayed pushed after the failure, and
    // the next encode's map took them for its own: ArrayIndexOutOfBoundsException.
    Bag bag = new Bag();
    bag.items = new ArrayList<>(List.of(new Unregistered(1)));
    assertThatThrownBy(() -> connection.encode(new Message.Call(1, 0, "put", new Object[] {bag}, false)))
        .isInstanceOf(PbException.class)
        .hasMessageContaining("Class is not registered");

    Tagged tagged = new Tagged(new HashMap<>(Map.of("a", List.of(1, 2))));
    ByteBuf buf = connection.encode(new Message.Call(2, 0, "put", new Object[] {tagged}, false));
    try {
      Message decoded =
          WireCodec.decode(
              ByteBufUtil.getBytes(buf),
              KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, connection.reader()),
              Wire.DEFAULT_MAX_DEPTH,
              Wire.DEFAULT_MAX_MESSAGE);
      assertThat(((Message.Call) decoded).args()).containsExactly(tagged);
    } finally {
      buf.release();
    }
  }

  @Test
  void messageOverTheLimitFailsWithLimitExceededNamingTheLimit() {
    assertThatThrownBy(() -> connection.encode(new Message.Goodbye("x".repeat(Wire.MIN_FRAME))))
        .isInstanceOfSatisfying(
            PbException.class,
            e -> assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED))
        .hasMessageContaining("does not fit the message limit of " + Wire.MIN_FRAME + " bytes");
  }
}
