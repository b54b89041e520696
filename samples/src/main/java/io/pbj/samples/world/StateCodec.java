package io.pbj.samples.world;

import java.io.ByteArrayOutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The world's binary encoding primitives: big-endian integers and length-prefixed UTF-8 strings.
 * Reading checks every length against what is left, so a damaged or foreign state fails with an
 * {@link IllegalArgumentException} (which makes the client refetch it) rather than allocating
 * what it says.
 *
 * <p>Thread-safety: a writer or reader is used by one thread.
 */
final class StateCodec {
  /** The encoding version every world state is written in (the snapshots' format version). */
  static final int FORMAT = 1;

  private StateCodec() {}

  /** Appends to a growing byte array. */
  static final class Writer {
    private final ByteArrayOutputStream out;

    Writer(int expectedSize) {
      out = new ByteArrayOutputStream(expectedSize);
    }

    Writer u8(int v) {
      out.write(v);
      return this;
    }

    Writer u16(int v) {
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Writer i32(int v) {
      u16(v >>> 16);
      return u16(v);
    }

    Writer bytes(byte[] b) {
      out.writeBytes(b);
      return this;
    }

    /** A string as its UTF-8 length (one byte, so at most 255 bytes) and bytes. */
    Writer text(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      if (b.length > 255) {
        throw new IllegalArgumentException("text longer than 255 bytes: " + s);
      }
      u8(b.length);
      return bytes(b);
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  /** Reads what a {@link Writer} wrote; every read past the end is an IllegalArgumentException. */
  static final class Reader {
    private final ByteBuffer in;
    private final String what;

    Reader(byte[] state, String what) {
      this.in = ByteBuffer.wrap(state);
      this.what = what;
    }

    int u8() {
      try {
        return in.get() & 0xFF;
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    int u16() {
      try {
        return in.getShort() & 0xFFFF;
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    int i32() {
      try {
        return in.getInt();
      } catch (BufferUnderflowException e) {
        throw truncated();
      }
    }

    byte[] bytes(int n) {
      if (n > in.remaining()) {
        throw truncated();
      }
      byte[] b = new byte[n];
      in.get(b);
      return b;
    }

    String text() {
      return new String(bytes(u8()), StandardCharsets.UTF_8);
    }

    /** Checks that a tag byte is {@code expected}. */
    void tag(char expected) {
      int t = u8();
      if (t != expected) {
        throw new IllegalArgumentException(
            "not a " + what + " state: tag " + t + ", expected '" + expected + "'");
      }
    }

    /** Checks that nothing is left. */
    void end() {
      if (in.hasRemaining()) {
        throw new IllegalArgumentException(
            what + " state has " + in.remaining() + " bytes past its end");
      }
    }

    private IllegalArgumentException truncated() {
      return new IllegalArgumentException(what + " state is truncated at byte " + in.position());
    }
  }

  /** Refuses a snapshot in another encoding. */
  static void checkFormat(int format, String what) {
    if (format != FORMAT) {
      throw new IllegalArgumentException(
          what + " state in format " + format + "; this build reads format " + FORMAT);
    }
  }
}
