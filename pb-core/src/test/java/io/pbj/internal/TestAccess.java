package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import io.pbj.PbRegistry;

/** Reaches package-private decoding pieces from tests in other packages. */
public final class TestAccess {
  private TestAccess() {}

  /** Decodes {@code value} as one value under the per-message budget; it must fail. */
  public static void assertDecodeFails(byte[] value, String messagePart) {
    Kryo kryo =
        KryoSetup.create(
            PbRegistry.defaults(),
            Wire.DEFAULT_MAX_DEPTH,
            new KryoSetup.ReferenceCodec() {
              @Override
              public void write(Kryo k, com.esotericsoftware.kryo.kryo5.io.Output o, Object v) {
                throw new UnsupportedOperationException();
              }

              @Override
              public Object read(Kryo k, Input i) {
                throw new UnsupportedOperationException();
              }
            });
    KryoSetup.startBudget(value.length);
    Throwable failure = null;
    try {
      kryo.readClassAndObject(new Input(value));
    } catch (RuntimeException e) {
      failure = e;
    }
    assertThat((Throwable) failure).isNotNull();
    assertThat((Throwable) failure).hasMessageContaining(messagePart);
  }
}
