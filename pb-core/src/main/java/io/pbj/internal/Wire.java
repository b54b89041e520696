package io.pbj.internal;

/**
 * Constants of the wire protocol, in one place (see docs/PROTOCOL.md).
 *
 * <p>Thread-safety: constants only.
 */
public final class Wire {
  private Wire() {}

  /** The preamble: the magic bytes "PBJ" and 0x1A, then the protocol version (two bytes). */
  static final byte[] MAGIC = {'P', 'B', 'J', 0x1A};

  /**
   * The highest protocol version this build speaks, which its preamble carries; the HELLO gives
   * the whole range and the handshake settles the version (docs/PROTOCOL.md, "Handshake").
   */
  static final int PROTOCOL_VERSION = 1;

  /**
   * The lowest preamble version accepted: every version from it on sends a HELLO that settles
   * the version (docs/PROTOCOL.md). Never raised: a preamble is refused only when it is not PBJ.
   */
  static final int MIN_PREAMBLE_VERSION = 1;

  /** The lowest protocol version this build speaks. */
  static final int MIN_PROTOCOL_VERSION = 1;

  /** Length of the preamble in bytes. */
  static final int PREAMBLE_LENGTH = MAGIC.length + 2;

  /** Length of a frame's length prefix. */
  static final int LENGTH_FIELD = 4;

  /** Frame flag: more frames of the same message follow. */
  static final int FLAG_MORE = 0x01;

  /** Default largest frame body, in bytes. */
  public static final int DEFAULT_MAX_FRAME = 1 << 20;

  /** Default largest message (after reassembly of its frames), in bytes. */
  public static final int DEFAULT_MAX_MESSAGE = 64 << 20;

  /** Default deepest nesting of values in one message. */
  public static final int DEFAULT_MAX_DEPTH = 64;

  /**
   * Default heap bytes one incoming message may decode to, per byte of the message (plus 1 MiB):
   * see docs/PROTOCOL.md, "Decoding limits".
   */
  public static final int DEFAULT_MAX_DECODE_EXPANSION = 16;

  /** Default most objects one side may export on one connection. */
  public static final int DEFAULT_MAX_REFERENCES = 1 << 20;

  /** Smallest maximum frame accepted by the builders. */
  public static final int MIN_FRAME = 256;

  /** Message type tags. */
  static final byte HELLO = 0;
  static final byte CALL = 1;
  static final byte ANSWER = 2;
  static final byte ERROR = 3;
  static final byte RELEASE = 4;
  static final byte CANCEL = 5;
  static final byte GOODBYE = 6;
  static final byte PING = 7;
  static final byte PONG = 8;
  static final byte CACHE_UPDATE = 9;
  static final byte CACHE_STATE = 10;
  static final byte UPDATE_FAILED = 11;

  /** Reference kinds inside a value. */
  static final byte REF_YOURS = 0;
  static final byte REF_MINE = 1;
  static final byte REF_CACHE = 2;

  /** Id of the root object on every connection. */
  static final int ROOT_ID = 0;

  /** Longest remote method name. */
  static final int MAX_NAME = 1024;

  /**
   * Largest UPDATE_FAILED notice, in bytes: a receiver closes the connection on a larger one
   * before reading it, so a notice costs at most this much work whatever the peer sends.
   */
  static final int MAX_NOTICE = 2048;

  /** Characters of the method name and of the detail a sender keeps in an UPDATE_FAILED. */
  static final int NOTICE_METHOD_CHARS = 200;

  static final int NOTICE_DETAIL_CHARS = 400;
}
