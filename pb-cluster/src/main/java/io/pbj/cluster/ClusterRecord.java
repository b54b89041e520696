package io.pbj.cluster;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * One object of the cluster map, as the map holds it: a compact binary record, so the map needs
 * no Hazelcast serialization set-up. Layout (big-endian):
 *
 * <pre>
 * byte   format        {@link #FORMAT}
 * long   seq           +1 on every write of the key (at its partition owner)
 * long   version       {@link #versionOf}: names exactly one state
 * byte   change        0 = whole state, 1 = delta
 * (delta only)
 *   long   previousVersion
 *   short  method length, then the method name in UTF-8
 *   int    args length, then the arguments (Object[]) in the registry's codec
 * int    state length, then the state in the registry's codec
 * </pre>
 *
 * <p>The map is shared, so {@link #decode} trusts nothing: every length is checked against the
 * bytes left and the limit before anything is allocated.
 *
 * <p>Thread-safety: immutable (the arrays are never changed after construction).
 */
record ClusterRecord(
    long seq,
    long version,
    boolean delta,
    long previousVersion,
    String method,
    byte[] args,
    byte[] state) {
  /** The record format this code writes and reads. */
  static final byte FORMAT = 1;

  /** The longest delta method name, in UTF-8 bytes. */
  static final int MAX_METHOD_BYTES = 1024;

  /** A whole state. */
  static ClusterRecord whole(long seq, long version, byte[] state) {
    return new ClusterRecord(seq, version, false, 0, null, null, state);
  }

  /** A state made by a delta from {@code previousVersion}. */
  static ClusterRecord delta(
      long seq, long version, long previousVersion, String method, byte[] args, byte[] state) {
    return new ClusterRecord(seq, version, true, previousVersion, method, args, state);
  }

  /** This record with another seq (a rewrite of the same change). */
  ClusterRecord withSeq(long newSeq) {
    return new ClusterRecord(newSeq, version, delta, previousVersion, method, args, state);
  }

  /**
   * The version of {@code state} (its encoding) under {@code identity}: the first 8 bytes of the
   * SHA-256 of the format byte, the identity's length and UTF-8 bytes, and the state's bytes.
   */
  static long versionOf(String identity, byte[] state) {
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("this JVM has no SHA-256", e);
    }
    byte[] id = identity.getBytes(StandardCharsets.UTF_8);
    sha.update(FORMAT);
    sha.update(ByteBuffer.allocate(4).putInt(id.length).array());
    sha.update(id);
    sha.update(state);
    return ByteBuffer.wrap(sha.digest()).getLong();
  }

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32 + state.length);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeLong(seq);
      out.writeLong(version);
      out.writeByte(delta ? 1 : 0);
      if (delta) {
        byte[] m = method.getBytes(StandardCharsets.UTF_8);
        out.writeLong(previousVersion);
        out.writeShort(m.length);
        out.write(m);
        out.writeInt(args.length);
        out.write(args);
      }
      out.writeInt(state.length);
      out.write(state);
    } catch (IOException e) {
      throw new UncheckedIOException(e);    // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * The record in {@code bytes}.
   *
   * @param maxPartBytes the largest state, and the largest arguments, accepted
   * @throws IllegalArgumentException naming what is wrong: another format, a length beyond the
   *     bytes or the limit, trailing bytes
   */
  static ClusterRecord decode(byte[] bytes, int maxPartBytes) {
    if (bytes == null) {
      throw new IllegalArgumentException("the record is null");
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    if (in.remaining() < 1 + 8 + 8 + 1 + 4) {
      throw new IllegalArgumentException("the record has " + bytes.length + " bytes, too few");
    }
    byte format = in.get();
    if (format != FORMAT) {
      throw new IllegalArgumentException(
          "the record's format is " + format + ", this code reads format " + FORMAT);
    }
    long seq = in.getLong();
    long version = in.getLong();
    byte change = in.get();
    if (change != 0 && change != 1) {
      throw new IllegalArgumentException("the record's change kind is " + change + ", not 0 or 1");
    }
    long previousVersion = 0;
    String method = null;
    byte[] args = null;
    if (change == 1) {
      need(in, 8 + 2, "the delta header");
      previousVersion = in.getLong();
      int methodLength = in.getShort() & 0xffff;
      if (methodLength == 0 || methodLength > MAX_METHOD_BYTES) {
        throw new IllegalArgumentException("the delta method name has " + methodLength
            + " bytes; it must have 1 to " + MAX_METHOD_BYTES);
      }
      need(in, methodLength, "the delta method name");
      byte[] m = new byte[methodLength];
      in.get(m);
      method = new String(m, StandardCharsets.UTF_8);
      args = part(in, maxPartBytes, "the delta arguments");
    }
    byte[] state = part(in, maxPartBytes, "the state");
    if (in.hasRemaining()) {
      throw new IllegalArgumentException(
          in.remaining() + " bytes follow the record; it must end with its state");
    }
    return new ClusterRecord(seq, version, change == 1, previousVersion, method, args, state);
  }

  private static byte[] part(ByteBuffer in, int max, String what) {
    need(in, 4, what + "'s length");
    int length = in.getInt();
    if (length < 0 || length > max) {
      throw new IllegalArgumentException(
          what + " has " + length + " bytes; the limit (maxStateBytes) is " + max);
    }
    need(in, length, what);
    byte[] b = new byte[length];
    in.get(b);
    return b;
  }

  private static void need(ByteBuffer in, int n, String what) {
    if (in.remaining() < n) {
      throw new IllegalArgumentException(
          "the record ends inside " + what + " (" + in.remaining() + " bytes left, " + n
              + " needed)");
    }
  }
}
