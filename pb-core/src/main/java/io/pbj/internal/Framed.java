package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * A whole frame built by its sender: the 4-byte length, the flags byte and the chunk, as {@code
 * chunker} and {@code frame-encoder} would have made them (docs/PROTOCOL.md, section 2). Those two
 * let it pass untouched (it is not a {@link ByteBuf}), and {@code traffic} hands its content on.
 * A cache update pushed to many observers is framed this way, in one buffer per observer, so
 * that each write costs the pipeline no more buffers (see {@link SharedUpdate}).
 *
 * <p>Thread-safety: owned by one writer at a time, as any buffer in flight.
 */
final class Framed extends DefaultByteBufHolder {
  Framed(ByteBuf frame) {
    super(frame);
  }
}
