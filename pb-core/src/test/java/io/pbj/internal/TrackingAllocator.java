package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;

/**
 * A buffer allocator for one test channel that remembers every buffer it hands out, so a test can
 * tell, at once and for each input, which buffers are still held and whether all of them were
 * released. The fuzz targets use it per execution: Netty's leak detector (paranoid in tests) only
 * reports a leak when the garbage collector has found the lost buffer, long after the input that
 * caused it. The buffers are unpooled direct buffers: the leak detector tracks them too (it
 * ignores unpooled heap buffers), and a released buffer stays released (a pooled allocator
 * recycles the object behind a released buffer, which then reports its next owner's count).
 *
 * <p>Thread-safety: not thread-safe; for a channel on the test's thread (an {@code
 * EmbeddedChannel}).
 */
final class TrackingAllocator implements ByteBufAllocator {
  private final ByteBufAllocator delegate = new UnpooledByteBufAllocator(true);
  private final List<ByteBuf> handedOut = new ArrayList<>();

  private <T extends ByteBuf> T track(T buf) {
    handedOut.add(buf);
    return buf;
  }

  /**
   * Bytes of capacity held by the buffers handed out and not yet released; composite buffers
   * count through their components (which came from here too), not again themselves.
   */
  long held() {
    long n = 0;
    for (ByteBuf b : handedOut) {
      if (b.refCnt() > 0 && !(b instanceof CompositeByteBuf)) {
        n += b.capacity();
      }
    }
    return n;
  }

  /** The buffers handed out that are still not released, described; empty when all are. */
  List<String> unreleased() {
    List<String> live = new ArrayList<>();
    for (ByteBuf b : handedOut) {
      if (b.refCnt() > 0) {
        live.add(b.getClass().getSimpleName() + "(capacity " + b.capacity() + ", refCnt " + b.refCnt() + ")");
      }
    }
    return live;
  }

  @Override
  public ByteBuf buffer() {
    return track(delegate.buffer());
  }

  @Override
  public ByteBuf buffer(int initialCapacity) {
    return track(delegate.buffer(initialCapacity));
  }

  @Override
  public ByteBuf buffer(int initialCapacity, int maxCapacity) {
    return track(delegate.buffer(initialCapacity, maxCapacity));
  }

  @Override
  public ByteBuf ioBuffer() {
    return track(delegate.ioBuffer());
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity) {
    return track(delegate.ioBuffer(initialCapacity));
  }

  @Override
  public ByteBuf ioBuffer(int initialCapacity, int maxCapacity) {
    return track(delegate.ioBuffer(initialCapacity, maxCapacity));
  }

  @Override
  public ByteBuf heapBuffer() {
    return track(delegate.heapBuffer());
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity) {
    return track(delegate.heapBuffer(initialCapacity));
  }

  @Override
  public ByteBuf heapBuffer(int initialCapacity, int maxCapacity) {
    return track(delegate.heapBuffer(initialCapacity, maxCapacity));
  }

  @Override
  public ByteBuf directBuffer() {
    return track(delegate.directBuffer());
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity) {
    return track(delegate.directBuffer(initialCapacity));
  }

  @Override
  public ByteBuf directBuffer(int initialCapacity, int maxCapacity) {
    return track(delegate.directBuffer(initialCapacity, maxCapacity));
  }

  @Override
  public CompositeByteBuf compositeBuffer() {
    return track(delegate.compositeBuffer());
  }

  @Override
  public CompositeByteBuf compositeBuffer(int maxNumComponents) {
    return track(delegate.compositeBuffer(maxNumComponents));
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer() {
    return track(delegate.compositeHeapBuffer());
  }

  @Override
  public CompositeByteBuf compositeHeapBuffer(int maxNumComponents) {
    return track(delegate.compositeHeapBuffer(maxNumComponents));
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer() {
    return track(delegate.compositeDirectBuffer());
  }

  @Override
  public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
    return track(delegate.compositeDirectBuffer(maxNumComponents));
  }

  @Override
  public boolean isDirectBufferPooled() {
    return delegate.isDirectBufferPooled();
  }

  @Override
  public int calculateNewCapacity(int minNewCapacity, int maxCapacity) {
    return delegate.calculateNewCapacity(minNewCapacity, maxCapacity);
  }
}
