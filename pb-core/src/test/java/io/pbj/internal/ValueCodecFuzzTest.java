package io.pbj.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.Map;

/**
 * Jazzer target for {@link ValueCodec#decode} (behind {@link io.pbj.PbCodec#decode}), over the
 * registry of {@link MessageDecodeFuzzTest} (records, an enum, a class with fields, registered
 * collections and arrays, a Cacheable). The input is the bytes to decode.
 *
 * <p>Any bytes decode to a value or fail with a BAD_ARGUMENTS {@link PbException} (the one
 * documented failure), with no programming error ({@link MessageDecodeFuzzTest#BUGS}) in its
 * cause chain; an {@code OutOfMemoryError} or a {@code StackOverflowError} escapes and is a
 * finding. A warm decode allocates at most twice the decode budget ({@code maxDecodeExpansion}
 * × the input + 1 MiB). And a valid value decodes the same after it, from the same pool of
 * Kryos: nothing a failed decode leaves behind changes how the next one reads.
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/internal/ValueCodecFuzzTestInputs/<method>/},
 * written by {@link WireFuzzSeedWriter}. Fuzzing: see docs/FUZZING.md. Not thread-safe; Jazzer
 * runs a target on one thread.
 */
class ValueCodecFuzzTest {
  /** One Kryo in the pool at a time on this thread, so the canary reuses the one just used. */
  static final ValueCodec CODEC = new ValueCodec(MessageDecodeFuzzTest.REGISTRY, Wire.DEFAULT_MAX_MESSAGE);

  private static final MessageDecodeFuzzTest.Route CANARY_VALUE =
      new MessageDecodeFuzzTest.Route(
          "canary",
          List.of(new MessageDecodeFuzzTest.Point(3, 4)),
          new java.util.HashMap<>(Map.of("a", List.of(1, 2))));

  private static final byte[] CANARY = CODEC.encode(CANARY_VALUE);

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  @FuzzTest(maxDuration = "30s")
  void anyBytesDecodeToAValueOrBadArguments(byte[] bytes) {
    // the first decode may load, link (and, when fuzzing, instrument) classes: measure the second
    outcome(bytes);
    long tid = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(tid);
    Object outcome = outcome(bytes);
    long allocated = THREADS.getThreadAllocatedBytes(tid) - before;

    if (outcome instanceof PbException e) {
      if (e.code() != Code.BAD_ARGUMENTS) {
        throw new AssertionError("decoding failed with " + e.code() + ": " + e.getMessage(), e);
      }
      MessageDecodeFuzzTest.checkCauses(e);
    }
    long bound = 2 * MessageDecodeFuzzTest.allocationBudget(bytes.length);
    if (allocated > bound) {
      throw new AssertionError(
          "decoding " + bytes.length + " bytes allocated " + allocated + " bytes, more than "
              + bound);
    }
    Object next = CODEC.decode(CANARY, MessageDecodeFuzzTest.Route.class);
    if (!CANARY_VALUE.equals(next)) {
      throw new AssertionError("after these bytes a valid value decoded to " + next);
    }
  }

  /** The decoded value, or the PbException the decode threw. */
  private static Object outcome(byte[] bytes) {
    try {
      return CODEC.decode(bytes, Object.class);
    } catch (PbException e) {
      return e;
    }
  }
}
