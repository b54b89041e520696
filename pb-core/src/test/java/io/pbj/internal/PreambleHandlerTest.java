package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link PreambleHandler} on an {@link EmbeddedChannel}, fed the peer's bytes read by read. */
class PreambleHandlerTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  private static final byte[] PREAMBLE = {'P', 'B', 'J', 0x1A, 0, 1};

  private final List<PbException> failures = new CopyOnWriteArrayList<>();
  private final EmbeddedChannel channel = new EmbeddedChannel(new PreambleHandler(failures::add));
  private final List<ByteBuf> handedIn = new ArrayList<>();

  @AfterEach
  void everyBufferHandedInIsReleased() {
    channel.finishAndReleaseAll();
    for (ByteBuf b : handedIn) {
      assertThat(b.refCnt()).as("refCnt of a buffer handed to the handler").isZero();
    }
  }

  /** One read of these bytes (ints, for char and hex literals alike). */
  private void read(int... values) {
    byte[] bytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      bytes[i] = (byte) values[i];
    }
    read(bytes);
  }

  private void read(byte[] bytes) {
    ByteBuf buf = Unpooled.buffer(bytes.length).writeBytes(bytes);
    handedIn.add(buf);
    channel.writeInbound(buf);
  }

  private void read(String text) {
    read(text.getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] all = new byte[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static String readAndRelease(ByteBuf buf) {
    try {
      return new String(ByteBufUtil.getBytes(buf), StandardCharsets.US_ASCII);
    } finally {
      buf.release();
    }
  }

  private boolean handlerPresent() {
    return channel.pipeline().get(PreambleHandler.class) != null;
  }

  private PbException onlyFailure() {
    assertThat(failures).hasSize(1);
    PbException f = failures.get(0);
    assertThat(f.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    return f;
  }

  @Test
  void sendsThePreambleAsSoonAsTheChannelIsActive() {
    ByteBuf sent = channel.readOutbound();
    try {
      assertThat(ByteBufUtil.getBytes(sent)).isEqualTo(PREAMBLE);
    } finally {
      sent.release();
    }
  }

  @Test
  void matchingPreambleRemovesTheHandlerAndPassesTheRestOn() {
    read(concat(PREAMBLE, "rest".getBytes(StandardCharsets.US_ASCII)));

    assertThat(handlerPresent()).isFalse();
    assertThat(readAndRelease(channel.readInbound())).isEqualTo("rest");
    assertThat(failures).isEmpty();
    assertThat(channel.isOpen()).isTrue();
  }

  @Test
  void matchingPreambleAloneLeavesNothingToPassOn() {
    read(PREAMBLE);

    assertThat(handlerPresent()).isFalse();
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void preambleSplitOverSeveralReadsIsCheckedAcrossThem() {
    for (int i = 0; i < PREAMBLE.length - 1; i++) {
      read(new byte[] {PREAMBLE[i]});
      assertThat(handlerPresent()).as("after %d bytes", i + 1).isTrue();
    }
    read(PREAMBLE[PREAMBLE.length - 1], 'a', 'b');

    assertThat(handlerPresent()).isFalse();
    assertThat(readAndRelease(channel.readInbound())).isEqualTo("ab");
    read("cd");
    assertThat(readAndRelease(channel.readInbound())).isEqualTo("cd");
    assertThat(failures).isEmpty();
  }

  @Test
  void httpRequestIsRefusedAtItsFirstByteAndNamedAsText() {
    read("GET / HTTP/1.1\r\nHost: example\r\n\r\n");

    assertThat(onlyFailure())
        .hasMessageContaining("the peer does not speak PBJ")
        .hasMessageContaining("first bytes 0x47 (text, perhaps HTTP)")
        .hasMessageContaining("are not the PBJ preamble 0x50424a1a");
    assertThat(channel.isOpen()).isFalse();
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void textThatStartsLikeThePreambleIsNamedByEveryByteSeen() {
    read("POST / HTTP/1.1\r\n");

    assertThat(onlyFailure()).hasMessageContaining("first bytes 0x504f (text, perhaps HTTP)");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void tlsClientHelloIsRefusedAndNamedAsTls() {
    // a TLS 1.2 record header of a ClientHello, then the start of the handshake message
    read(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00);

    assertThat(onlyFailure())
        .hasMessageContaining("first bytes 0x16 (a TLS handshake: is TLS on at one end only?)");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void unrecognisedBytesAreNamedWithoutAGuess() {
    read(0x00, 0x00);

    assertThat(onlyFailure().detail())
        .isEqualTo("the peer does not speak PBJ: first bytes 0x00 are not the PBJ preamble 0x50424a1a");
  }

  @Test
  void firstWrongByteClosesTheConnectionBeforeTheRestArrives() {
    read("PB");
    assertThat(channel.isOpen()).isTrue();
    assertThat(failures).isEmpty();

    read("X");

    assertThat(onlyFailure()).hasMessageContaining("first bytes 0x504258");
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void versionZeroIsRefusedNamingBothVersions() {
    read('P', 'B', 'J', 0x1A, 0);
    assertThat(channel.isOpen()).isTrue();

    read(0, 'x');

    assertThat(onlyFailure())
        .hasMessageContaining(
            "the peer speaks PBJ protocol version 0; this side speaks versions "
                + Wire.MIN_PROTOCOL_VERSION + " to " + Wire.PROTOCOL_VERSION);
    assertThat(channel.isOpen()).isFalse();
    assertThat((Object) channel.readInbound()).as("nothing after a refused preamble").isNull();
  }

  @Test
  void aHigherVersionPassesThePreambleForTheHelloToSettle() {
    read('P', 'B', 'J', 0x1A, 0, 7, 'x');

    assertThat(failures).isEmpty();
    assertThat(handlerPresent()).isFalse();
    assertThat(readAndRelease((ByteBuf) channel.readInbound())).isEqualTo("x");
  }
}
