package io.pbj.store.internal;

import io.pbj.store.StoreException;

/**
 * Decides what a throwable that escaped a backend call (MapDB or MVStore reading, scanning,
 * writing or committing) means for the store. Stateless; thread-safe.
 *
 * <p>Backends reading a damaged file fail in every way a decoder can: their own exceptions,
 * {@code IndexOutOfBoundsException}, {@code NegativeArraySizeException}, {@code AssertionError}
 * (MapDB checks its nodes with explicit asserts), {@code StackOverflowError}, and
 * {@code OutOfMemoryError} when a garbled length asks for gigabytes. All of these are safe to
 * catch here: the store abandons the backend that threw, so whatever half-updated state it left
 * is never used again, and the thread unwinds through code that holds no lock of ours.
 *
 * <p>An {@code OutOfMemoryError} is the one doubtful case: it may be a decoder's absurd request
 * (nothing was allocated; the heap is fine) or the heap really running out while the backend
 * happened to allocate. The store cannot tell which from the error, so it looks at the heap after
 * the fact: below {@link #HEAP_PRESSURE} of the maximum in use, the allocation was the backend's
 * own folly and the call is answered as a miss; above it, the file is still quarantined (it may
 * be the cause) but the error is rethrown, because swallowing a real exhaustion would hide it
 * from the application. Anything else ({@code LinkageError}, other {@code VirtualMachineError}s)
 * is not a damaged file and propagates untouched.
 */
final class BackendFailure {
  /** Fraction of the maximum heap in use above which an OutOfMemoryError is also rethrown. */
  static final double HEAP_PRESSURE = 0.75;

  /** What to do with a throwable from a backend call. */
  enum Action {
    /** Not a sign of a damaged file: let it propagate as it is. */
    PROPAGATE,
    /** The file is damaged: quarantine it and answer the call as a miss or a no-op. */
    QUARANTINE,
    /** Quarantine, then rethrow: an OutOfMemoryError while the heap really is nearly full. */
    QUARANTINE_AND_RETHROW
  }

  private BackendFailure() {}

  static Action classify(Throwable t) {
    Runtime rt = Runtime.getRuntime();
    return classify(t, rt.totalMemory() - rt.freeMemory(), rt.maxMemory());
  }

  static Action classify(Throwable t, long usedHeap, long maxHeap) {
    if (t instanceof StoreException) {
      return Action.PROPAGATE; // ours, already saying what is wrong
    }
    if (t instanceof RuntimeException
        || t instanceof StackOverflowError
        || t instanceof AssertionError
        || t.getClass().getName().equals("kotlin.NotImplementedError")) {
      return Action.QUARANTINE;
    }
    if (t instanceof InternalError && String.valueOf(t.getMessage()).contains("unsafe memory access")) {
      // A memory-mapped file shorter than the mapping (SIGBUS turned into an error by the JVM).
      return Action.QUARANTINE;
    }
    if (t instanceof OutOfMemoryError) {
      if (String.valueOf(t.getMessage()).contains("Requested array size exceeds VM limit")
          || usedHeap < HEAP_PRESSURE * maxHeap) {
        return Action.QUARANTINE;
      }
      return Action.QUARANTINE_AND_RETHROW;
    }
    return Action.PROPAGATE;
  }

  /**
   * One line for a log or a message: the type, the message and where it was thrown (the first
   * frame says which part of the backend choked), without a stack trace.
   */
  static String describe(Throwable t) {
    String m = t.getMessage();
    StackTraceElement[] frames = t.getStackTrace();
    String where = frames.length == 0 ? "" : " (at " + frames[0] + ")";
    return t.getClass().getName() + (m == null ? "" : ": " + m) + where;
  }
}
