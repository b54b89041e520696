package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.testing.PbCleanup;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Encoding through a connection's {@link ReferenceWriter} under small message limits. */
class ReferenceWriterTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final Connection connection =
      new Connection(
          channel,
          TestConfigs.config(PbRegistry.defaults(), new QueuedExecutor(), Wire.MIN_FRAME, Wire.MIN_FRAME));

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
  void messageOverTheLimitFailsWithLimitExceededNamingTheLimit() {
    assertThatThrownBy(() -> connection.encode(new Message.Goodbye("x".repeat(Wire.MIN_FRAME))))
        .isInstanceOfSatisfying(
            PbException.class,
            e -> assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED))
        .hasMessageContaining("does not fit the message limit of " + Wire.MIN_FRAME + " bytes");
  }
}
