package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A refused connection on an embedded channel: told why, then read no further than a little. */
class RefusalTest {
  @Test
  void aRefusedPeerThatKeepsSendingIsReadNoFurtherThanTheDropAllowance() {
    EmbeddedChannel channel = new EmbeddedChannel(new Refusal("the server is full", false));
    ByteBuf goodbye = channel.readOutbound();
    assertThat(goodbye.getByte(Wire.PREAMBLE_LENGTH + Wire.LENGTH_FIELD + 1))
        .as("the message type: GOODBYE")
        .isEqualTo(Wire.GOODBYE);
    goodbye.release();
    List<ByteBuf> sent = new ArrayList<>();
    int chunk = 16 << 10;
    for (int i = 0; channel.config().isAutoRead() && i < 1000; i++) {
      ByteBuf b = Unpooled.buffer(chunk).writeZero(chunk);
      sent.add(b);
      channel.writeInbound(b);
    }
    assertThat(channel.config().isAutoRead()).as("reading stopped").isFalse();
    assertThat((long) sent.size() * chunk)
        .as("bytes read before it stopped")
        .isLessThanOrEqualTo(Refusal.DROP_MAX + chunk);
    assertThat(sent).allSatisfy(b -> assertThat(b.refCnt()).isZero());
    channel.finishAndReleaseAll();
  }
}
