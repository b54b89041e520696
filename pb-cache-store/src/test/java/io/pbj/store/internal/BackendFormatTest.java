package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.ObjectDataType;
import org.junit.jupiter.api.Test;
import org.mapdb.DataInput2;
import org.mapdb.DataOutput2;
import org.mapdb.Serializer;

/**
 * The bounded key and value codecs write exactly what the backends' default ones write (so
 * files of either kind open with either), and refuse lengths the bytes cannot hold.
 */
class BackendFormatTest {
  private static final List<String> KEYS = List.of(
      "", "a", "hub:7000\u0000world\u0000guest\u0000obj-1", "x".repeat(15), "y".repeat(16),
      "\u00e9\u4e2d\ud83d\ude00 key", "k".repeat(300));

  private static List<byte[]> values() {
    Random r = new Random(1);
    return List.of(new byte[0], new byte[] {1}, bytes(r, 15), bytes(r, 16), bytes(r, 300), bytes(r, 70_000));
  }

  private static byte[] bytes(Random r, int n) {
    byte[] b = new byte[n];
    r.nextBytes(b);
    return b;
  }

  private static byte[] mvWrite(java.util.function.Consumer<WriteBuffer> write) {
    WriteBuffer w = new WriteBuffer();
    write.accept(w);
    ByteBuffer b = w.getBuffer();
    b.flip();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void mvStoreKeysAndValuesAreWrittenAsObjectDataTypeWritesThem() {
    ObjectDataType odt = new ObjectDataType();
    for (String k : KEYS) {
      byte[] ours = mvWrite(w -> MvStoreTables.KeyType.INSTANCE.write(w, k));
      assertThat(ours).as("key %s", k).isEqualTo(mvWrite(w -> odt.write(w, k)));
      assertThat(MvStoreTables.KeyType.INSTANCE.read(ByteBuffer.wrap(ours))).isEqualTo(k);
    }
    for (byte[] v : values()) {
      byte[] ours = mvWrite(w -> MvStoreTables.ValueType.INSTANCE.write(w, v));
      assertThat(ours).as("value of %d bytes", v.length).isEqualTo(mvWrite(w -> odt.write(w, v)));
      assertThat(MvStoreTables.ValueType.INSTANCE.read(ByteBuffer.wrap(ours))).isEqualTo(v);
    }
  }

  @Test
  void mvStoreRefusesOtherTypesAndLengthsBeyondThePage() {
    ObjectDataType odt = new ObjectDataType();
    byte[] date = mvWrite(w -> odt.write(w, new java.util.Date(0)));
    assertThatThrownBy(() -> MvStoreTables.ValueType.INSTANCE.read(ByteBuffer.wrap(date)))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("not a byte array");
    byte[] booleans = mvWrite(w -> odt.write(w, new boolean[3]));
    assertThatThrownBy(() -> MvStoreTables.ValueType.INSTANCE.read(ByteBuffer.wrap(booleans)))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("not bytes");
    // TYPE_ARRAY, byte, a varint claiming 2^30 bytes, then only 3 bytes.
    byte[] huge = {14, 1, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x04, 1, 2, 3};
    assertThatThrownBy(() -> MvStoreTables.ValueType.INSTANCE.read(ByteBuffer.wrap(huge)))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("1073741824");
    byte[] longKey = {11, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 'a'};
    assertThatThrownBy(() -> MvStoreTables.KeyType.INSTANCE.read(ByteBuffer.wrap(longKey)))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("key length");
    assertThatThrownBy(() -> MvStoreTables.KeyType.INSTANCE.createStorage(Integer.MAX_VALUE))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("entries");
  }

  @Test
  void mapDbKeysAndValuesAreWrittenAsMapDbsSerializersWriteThem() throws Exception {
    for (String k : KEYS) {
      DataOutput2 a = new DataOutput2();
      MapDbTables.BoundedString.INSTANCE.serialize(a, k);
      DataOutput2 b = new DataOutput2();
      Serializer.STRING.serialize(b, k);
      assertThat(a.copyBytes()).isEqualTo(b.copyBytes());
      byte[] bytes = a.copyBytes();
      assertThat(MapDbTables.BoundedString.INSTANCE.deserialize(new DataInput2.ByteArray(bytes), bytes.length))
          .isEqualTo(k);
    }
    Object keyArray = Serializer.STRING.valueArrayFromArray(KEYS.toArray());
    DataOutput2 keysOut = new DataOutput2();
    Serializer.STRING.valueArraySerialize(keysOut, keyArray);
    char[][] keysBack = MapDbTables.BoundedString.INSTANCE.valueArrayDeserialize(
        new DataInput2.ByteArray(keysOut.copyBytes()), KEYS.size());
    assertThat(Arrays.stream(keysBack).map(String::new).toList()).isEqualTo(KEYS);

    List<byte[]> values = values();
    for (byte[] v : values) {
      DataOutput2 out = new DataOutput2();
      Serializer.BYTE_ARRAY.serialize(out, v);
      byte[] bytes = out.copyBytes();
      assertThat(MapDbTables.BoundedBytes.INSTANCE.deserialize(new DataInput2.ByteArray(bytes), bytes.length))
          .isEqualTo(v);
    }
    Object valueArray = Serializer.BYTE_ARRAY.valueArrayFromArray(values.toArray());
    DataOutput2 valuesOut = new DataOutput2();
    Serializer.BYTE_ARRAY.valueArraySerialize(valuesOut, valueArray);
    byte[][] back = MapDbTables.BoundedBytes.INSTANCE.valueArrayDeserialize(
        new DataInput2.ByteArray(valuesOut.copyBytes()), values.size());
    assertThat(back.length).isEqualTo(values.size());
    for (int i = 0; i < back.length; i++) {
      assertThat(back[i]).isEqualTo(values.get(i));
    }
  }

  @Test
  void mapDbRefusesLengthsBeyondTheRecord() throws Exception {
    DataOutput2 out = new DataOutput2();
    out.packInt(1 << 30);
    out.write(new byte[] {1, 2, 3});
    byte[] huge = out.copyBytes();
    assertThatThrownBy(() -> MapDbTables.BoundedBytes.INSTANCE.deserialize(new DataInput2.ByteArray(huge), huge.length))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("1073741824");
    assertThatThrownBy(() -> MapDbTables.BoundedString.INSTANCE.deserialize(new DataInput2.ByteArray(huge), huge.length))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("key length");
    assertThatThrownBy(() -> MapDbTables.BoundedString.INSTANCE.valueArrayDeserialize(new DataInput2.ByteArray(huge), Integer.MAX_VALUE))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("key count");
    assertThatThrownBy(() -> MapDbTables.BoundedBytes.INSTANCE.valueArrayDeserialize(new DataInput2.ByteArray(huge), 1))
        .isInstanceOf(DamagedFileException.class).hasMessageContaining("value count");
  }
}
