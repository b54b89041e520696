package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;

/**
 * The input a message is decoded from: Kryo's, with every array and string that Kryo's own code
 * reads checked against the bytes left before it is allocated. PBJ's serializers check their
 * lengths themselves; Kryo's (those it keeps for registered types: the {@code String} fields of a
 * class read by the field serializer, a {@code float[]}, a {@code BigInteger}'s bytes, ...)
 * create the array of the length the peer claims and only then read it, so a few bytes claiming
 * 2^30 characters allocated 2 GiB. Every element takes at least one byte on the wire (the
 * fixed-width ones their width), so nothing read through here allocates more than a few times the
 * bytes it consumes; the strings are charged to the message's allocation budget too.
 *
 * <p>Thread-safety: not thread-safe; one per message, on the thread decoding it.
 */
final class BoundedInput extends Input {
  private final DecodeContext context;

  BoundedInput(byte[] bytes, DecodeContext context) {
    super(bytes);
    this.context = context;
  }

  private void check(long length, int width, String what) {
    long remaining = limit - position;
    if (length < 0 || length * width > remaining) {
      throw new KryoException(
          what + " claims " + length + " elements but only " + remaining + " bytes remain");
    }
  }

  @Override
  public byte[] readBytes(int length) {
    check(length, 1, "byte array");
    return super.readBytes(length);
  }

  @Override
  public int[] readInts(int length) {
    check(length, 4, "int array");
    return super.readInts(length);
  }

  @Override
  public int[] readInts(int length, boolean optimizePositive) {
    check(length, 1, "int array");
    return super.readInts(length, optimizePositive);
  }

  @Override
  public long[] readLongs(int length) {
    check(length, 8, "long array");
    return super.readLongs(length);
  }

  @Override
  public long[] readLongs(int length, boolean optimizePositive) {
    check(length, 1, "long array");
    return super.readLongs(length, optimizePositive);
  }

  @Override
  public float[] readFloats(int length) {
    check(length, 4, "float array");
    return super.readFloats(length);
  }

  @Override
  public double[] readDoubles(int length) {
    check(length, 8, "double array");
    return super.readDoubles(length);
  }

  @Override
  public short[] readShorts(int length) {
    check(length, 2, "short array");
    return super.readShorts(length);
  }

  @Override
  public char[] readChars(int length) {
    check(length, 2, "char array");
    return super.readChars(length);
  }

  @Override
  public boolean[] readBooleans(int length) {
    check(length, 1, "boolean array");
    return super.readBooleans(length);
  }

  @Override
  public String readString() {
    int start = checkStringLength();
    String s = super.readString();
    context.allocate(HeapSizes.string(position - start));
    return s;
  }

  @Override
  public StringBuilder readStringBuilder() {
    int start = checkStringLength();
    StringBuilder s = super.readStringBuilder();
    context.allocate(HeapSizes.string(position - start));
    return s;
  }

  /**
   * Kryo's own string format: a first byte with its high bit clear starts an ASCII string (read
   * byte by byte), otherwise a varint with a flag bit holds the character count plus one (0 for
   * null), and Kryo allocates that many characters before reading them. Answers where it starts.
   */
  private int checkStringLength() {
    int start = position;
    if (readVarIntFlag()) {
      int count = readVarIntFlag(true);
      if (count != 0) {
        check((long) count - 1, 1, "string");
      }
      position = start;
    }
    return start;
  }
}
