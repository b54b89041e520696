package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.io.Output;
import com.esotericsoftware.kryo.kryo5.util.DefaultClassResolver;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import org.junit.jupiter.api.Test;

/**
 * Hostile HELLOs decoded from raw bytes: every broken one is a PROTOCOL_ERROR PbException (no
 * other exception escapes), and what is decoded is bounded by the bytes sent.
 */
class HelloAttackTest {

  private static Message decode(byte[] bytes) {
    return WireCodec.decode(
        bytes,
        new PbKryo(new DefaultClassResolver()),
        Wire.DEFAULT_MAX_DEPTH,
        Wire.DEFAULT_MAX_MESSAGE);
  }

  private static Output hello(int count) {
    Output out = new Output(64, -1);
    out.writeByte(Wire.HELLO);
    out.writeVarInt(count, true);
    return out;
  }

  private static void assertProtocolError(byte[] bytes) {
    assertThatThrownBy(() -> decode(bytes))
        .isInstanceOf(PbException.class)
        .extracting(e -> ((PbException) e).code())
        .isEqualTo(PbException.Code.PROTOCOL_ERROR);
  }

  @Test
  void aHugeDeclaredCountWithFewBytesIsAProtocolError() {
    Output out = hello(Integer.MAX_VALUE);
    out.writeVarInt(PbRegistry.FIRST_USER_ID, true);
    KryoSetup.writeString(out, "a.B");
    assertProtocolError(out.toBytes());
  }

  @Test
  void aNegativeCountIsAProtocolError() {
    Output out = hello(-1);
    assertProtocolError(out.toBytes());
  }

  @Test
  void formatsCutShortAreAProtocolError() {
    Output out = hello(3);
    for (int i = 0; i < 3; i++) {
      out.writeVarInt(PbRegistry.FIRST_USER_ID + i, true);
      KryoSetup.writeString(out, "a.B" + i);
    }
    out.writeVarInt(1, true);
    out.writeVarInt(1, true);
    out.writeVarInt(77, true); // one of three formats
    assertProtocolError(out.toBytes());
  }

  @Test
  void onlyTheMinVersionIsAProtocolError() {
    Output out = hello(0);
    out.writeVarInt(1, true); // no max
    assertProtocolError(out.toBytes());
  }

  @Test
  void aNameOfExactlyTheLimitIsReadAndOneOverIsRefused() {
    Output ok = hello(1);
    ok.writeVarInt(PbRegistry.FIRST_USER_ID, true);
    KryoSetup.writeString(ok, "n".repeat(Wire.MAX_NAME));
    assertThat(((Message.Hello) decode(ok.toBytes())).classNames().get(0)).hasSize(Wire.MAX_NAME);

    Output over = hello(1);
    over.writeVarInt(PbRegistry.FIRST_USER_ID, true);
    KryoSetup.writeString(over, "n".repeat(Wire.MAX_NAME + 1));
    assertProtocolError(over.toBytes());
  }

  @Test
  void aNullNameIsAProtocolError() {
    Output out = hello(1);
    out.writeVarInt(PbRegistry.FIRST_USER_ID, true);
    KryoSetup.writeString(out, null);
    assertProtocolError(out.toBytes());
  }

  @Test
  void negativeVersionsDecodeAndThenFailNegotiation() {
    Output out = hello(0);
    out.writeVarInt(-5, true);
    out.writeVarInt(-1, true);
    Message.Hello hello = (Message.Hello) decode(out.toBytes());
    assertThat(hello.minVersion()).isNegative();
  }

  @Test
  void manyShortNamesDecodeToAsManyEntriesAsTheBytesHold() {
    int n = 20_000;
    Output out = hello(n);
    for (int i = 0; i < n; i++) {
      out.writeVarInt(PbRegistry.FIRST_USER_ID + i, true);
      KryoSetup.writeString(out, "x");
    }
    out.writeVarInt(1, true);
    out.writeVarInt(1, true);
    for (int i = 0; i < n; i++) {
      out.writeVarInt(-1, true); // five-byte fingerprints
    }
    byte[] bytes = out.toBytes();
    Message.Hello hello = (Message.Hello) decode(bytes);
    assertThat(hello.ids()).hasSize(n);
    assertThat(hello.formats()).containsOnly(-1);
  }
}
