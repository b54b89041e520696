package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;

/**
 * What one incoming message may still cost while it is decoded, in budgets that all grow with the
 * message's size, so that decoding any input costs work and memory linear in its bytes:
 *
 * <ul>
 *   <li><b>elements</b>: every element of an array, a map or an immutable collection takes at
 *       least one byte of its own, so the lengths they claim in one message together may not
 *       exceed its size; this bounds what they allocate before their elements are read. The
 *       elements of Kryo's mutable collections may take none (a list of nulls is its length and
 *       one class id): those are bounded by the allocation budget alone, which charges a slot per
 *       element before the collection is created;
 *   <li><b>allocation</b>: the heap of every object, array and container slot the decoder
 *       creates (as {@link HeapSizes} estimates it), at most {@code expansion} times the
 *       message's bytes plus {@link #ALLOCATION_FLOOR}; containers and arrays are charged before
 *       they are created;
 *   <li><b>probes</b>: the work of building hash-based containers (hashing the elements, and an
 *       upper bound of the {@code equals} calls that elements sharing a hash code cost), at most
 *       {@link #PROBE_FACTOR} times the message's bytes plus {@link #PROBE_FLOOR}.
 * </ul>
 *
 * <p>A context is made per message and travels with it to the thread that decodes it (it is
 * attached to the channel's {@link PbKryo} for the duration of one decode), so no budget lives in
 * a thread-local.
 *
 * <p>Thread-safety: used by the one thread decoding the message; {@link #cancel()} may be called
 * from any thread.
 */
final class DecodeContext {
  /** Probe steps allowed per byte of the message. */
  static final int PROBE_FACTOR = 256;

  /** Probe steps every message may take, however small. */
  static final long PROBE_FLOOR = 1 << 16;

  /** Heap bytes every message may decode to, however small. */
  static final long ALLOCATION_FLOOR = 1 << 20;

  private final int messageBytes;
  private final int expansion;
  private final long allocationLimit;
  private final long probeLimit;
  private long elements;
  private long allocated;
  private long probes;
  private volatile boolean cancelled;

  /**
   * The multiplier of the value being read so far: how many times an {@code equals} with it may
   * walk each of its bytes (1 for flat values; see {@link HashBuild}). While a value is read it
   * holds the largest multiplier of its children read so far; a hash container then scales it
   * by its largest group of colliding elements.
   */
  long multiplier = 1;

  /** Where the value whose read completed last started, and its multiplier. */
  int lastStart;

  long lastMultiplier = 1;

  /**
   * @param messageBytes the size of the whole message
   * @param expansion heap bytes the message may decode to per byte of it
   */
  DecodeContext(int messageBytes, int expansion) {
    this.messageBytes = messageBytes;
    this.expansion = expansion;
    this.elements = messageBytes;
    this.allocationLimit = (long) expansion * messageBytes + ALLOCATION_FLOOR;
    this.probeLimit = (long) PROBE_FACTOR * messageBytes + PROBE_FLOOR;
  }

  /** Stops the decode at its next step (the connection is gone). */
  void cancel() {
    cancelled = true;
  }

  long probes() {
    return probes;
  }

  /** Heap bytes charged so far. */
  long allocated() {
    return allocated;
  }

  /** Charges {@code bytes} of heap; refuses the message once they exceed the budget. */
  void allocate(long bytes) {
    allocated += bytes;
    if (allocated > allocationLimit || allocated < 0) {
      throw new Refused(
          "it decodes to more than the allocation budget of " + allocationLimit + " bytes ("
              + expansion + " x its " + messageBytes + " bytes + " + ALLOCATION_FLOOR
              + "; see maxDecodeExpansion)");
    }
  }

  /** Gives back {@code bytes} charged for scratch space the decoder has dropped again. */
  void release(long bytes) {
    allocated -= bytes;
  }

  /**
   * Fails unless {@code length} items of at least {@code minBytes} each fit in what remains (with
   * {@code minBytes} 0, unless it is negative).
   */
  void checkLength(Input input, long length, int minBytes, String what) {
    long remaining = input.limit() - input.position();
    if (length < 0 || length * minBytes > remaining) {
      throw new KryoException(
          what + " claims " + length + " elements but only " + remaining + " bytes remain");
    }
    elements -= length * minBytes;
    if (elements < 0) {
      throw new KryoException(
          what + " claims " + length + " elements: the containers of this message claim more"
              + " elements than it has bytes");
    }
  }

  /** One value was read: stops the decode if the connection has gone meanwhile. */
  void step() {
    if (cancelled) {
      throw new Refused("the connection closed while it was being decoded");
    }
  }

  /**
   * Charges {@code steps} of hash-container work for {@code what}; refuses the message once they
   * exceed the budget, naming the container, its size and its largest group of elements sharing
   * one hash code.
   */
  void probe(long steps, String what, int size, int largestGroup) {
    probes += steps;
    if (probes > probeLimit || probes < 0) {
      String budget =
          " the probe budget of " + probeLimit + " steps (" + PROBE_FACTOR + " x its "
              + messageBytes + " bytes + " + PROBE_FLOOR + ")";
      throw new Refused(
          largestGroup > 1
              ? "hash flooding: a " + what + " of " + size + " elements has " + largestGroup
                  + " elements sharing one hash code; building it would take more than" + budget
              : "hashing the elements of a " + what + " of " + size + " elements (and of the"
                  + " hash containers around it) would take more than" + budget);
    }
  }

  /**
   * A message refused by a decoding budget. A {@link KryoException}, so that Kryo's serializers
   * pass it through unchanged (they wrap other exceptions); {@link WireCodec#failure} turns it
   * into a {@code LIMIT_EXCEEDED} error naming the message part.
   */
  static final class Refused extends KryoException {
    private static final long serialVersionUID = 1L;

    private final String reason;

    Refused(String reason) {
      super(reason);
      this.reason = reason;
    }

    /** Why, without Kryo's serialization trace. */
    String reason() {
      return reason;
    }
  }
}
