package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Lets fan-out tests in other packages see the bodies that {@link SharedUpdate} encodes. */
public final class FanoutTestAccess {
  private FanoutTestAccess() {}

  /**
   * Records every shared body encoded, and every whole frame built from one (one per update and
   * distinct cache id, for updates that fit a frame), from now on until {@link #stopTracking}:
   * unpooled direct
   * buffers, so that a released one stays released (a pooled buffer object is recycled).
   */
  public static List<ByteBuf> trackSharedBodies() {
    List<ByteBuf> bodies = new CopyOnWriteArrayList<>();
    SharedUpdate.bodyAllocator =
        new AbstractByteBufAllocator(true) {
          @Override
          protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
            return newDirectBuffer(initialCapacity, maxCapacity);
          }

          @Override
          protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
            ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
            bodies.add(b);
            return b;
          }

          @Override
          public boolean isDirectBufferPooled() {
            return false;
          }
        };
    return bodies;
  }

  public static void stopTracking() {
    SharedUpdate.bodyAllocator = null;
  }
}
