package io.pbj.publish;

/**
 * How far the activation of one attach has got: objects and state bytes activated so far, of the
 * totals known now. {@code bytesTotal} grows when stale states arrive from the batched fetch.
 *
 * <pre>{@code
 * PublishedClient.builder().store(store)
 *     .progress(p -> bar.show(p.objectsDone(), p.objectsTotal()))
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param objectsDone objects activated so far
 * @param objectsTotal objects in the attach
 * @param bytesDone state bytes of the activated objects
 * @param bytesTotal state bytes known so far (stored sizes, inlined and fetched states)
 */
public record ActivationProgress(long objectsDone, long objectsTotal, long bytesDone, long bytesTotal) {
  /** Whether every object is activated. */
  public boolean done() {
    return objectsDone == objectsTotal;
  }
}
