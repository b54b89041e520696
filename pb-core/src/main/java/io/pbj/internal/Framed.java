package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.WrappedByteBuf;

/**
 * A whole frame built by its sender: the 4-byte length, the flags byte and the chunk, as {@code
 * chunker} and {@code frame-encoder} would have made them (docs/PROTOCOL.md, section 2); those two
 * let it pass untouched. A cache update pushed to many observers is framed this way once, and
 * each observer writes a duplicate (see {@link SharedUpdate}). It is a buffer itself, not a holder
 * of one, so that the handlers and Netty's size estimate below tell it by a class check (checks
 * against an interface, on a type that several threads check against different interfaces,
 * cost a fifth of the pushing thread's time on JDK 17).
 *
 * <p>Thread-safety: owned by one writer at a time, as any buffer in flight.
 */
final class Framed extends WrappedByteBuf {
  Framed(ByteBuf frame) {
    super(frame);
  }
}
