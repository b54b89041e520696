package io.pbj.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.RemoteCache;
import io.pbj.RemoteObserver;
import io.pbj.testing.PbCleanup;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jazzer target for the message decoder: {@link WireCodec#decode} with the Kryo a channel gets
 * from {@link KryoSetup#create}, over a registry like an application's (records, an enum, a
 * class with fields, registered collections and arrays, a Cacheable), and the reference decoder
 * ({@link ReferenceReader}) of a real {@link Connection} that exports a root object. The input is
 * one message body, as {@link MessageCodec} hands it over.
 *
 * <p>Any bytes decode to a message, to an {@link Message.Undecodable} (a value the broker answers
 * with an error, the connection going on), or fail with a PROTOCOL_ERROR or LIMIT_EXCEEDED
 * {@link PbException}; nothing else is thrown (an {@code OutOfMemoryError} or a {@code
 * StackOverflowError} would be thrown too, and be a finding). Neither the exception nor an
 * Undecodable's cause may hide a programming error on the way ({@link #BUGS}). Decoding allocates
 * within its budget: at most twice what {@link DecodeContext} lets a message keep ({@code
 * maxDecodeExpansion} × its bytes + 1 MiB), and at most a few times what the budget was charged
 * plus a slack per byte, so that an allocation the budget does not see shows even in a small
 * message. Work is bounded by the decode budgets; Jazzer's timeout catches the rest. And a valid
 * message decodes the same after it on the same connection ({@link #CANARY_ARGS}).
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/internal/MessageDecodeFuzzTestInputs/<method>/},
 * message bodies encoded by a peer connection, written by {@link WireFuzzSeedWriter}. Fuzzing:
 * see docs/FUZZING.md. Not thread-safe; Jazzer runs a target on one thread.
 */
class MessageDecodeFuzzTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  record Point(int x, int y) {}

  record Route(String name, List<Point> points, Map<String, List<Integer>> tags) {}

  record Nest(Nest inner) {}

  record Shape(Object any, long[] samples, Set<String> labels, Color color) {}

  enum Color {
    RED,
    GREEN,
    BLUE
  }

  /** A plain class: Kryo's field serializer. */
  static final class Inventory {
    int count;
    String owner;
    List<Object> items;
    Map<Object, Object> index;
  }

  /** A registered exception type (ERROR messages name it; it is never serialized). */
  public static final class OutOfStock extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public OutOfStock(String message) {
      super(message);
    }
  }

  /** A replicated list: the server side. */
  static final class Scoreboard implements Cacheable {
    final List<String> entries = new ArrayList<>(List.of("first", "second"));

    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return new ArrayList<>(entries);
    }
  }

  /** A replicated list: the client side. */
  public static final class ScoreboardCache extends RemoteCache {
    @Override
    protected void setState(Object state) {}
  }

  /** The root object both ends export. */
  static final class Root implements Referenceable {}

  static final PbRegistry REGISTRY =
      PbRegistry.builder()
          .register(Point.class, Route.class, Nest.class, Shape.class, Color.class, Inventory.class)
          .register(ArrayDeque.class, Point[].class, float[].class)
          .registerException(OutOfStock.class)
          .registerCache(Scoreboard.class, ScoreboardCache.class)
          .build();

  /**
   * The arguments of a message that must decode to them after any other on the same connection:
   * what the decoder keeps between messages (Kryo's state, the connection's tables) may not
   * change how a valid message reads. Generic fields included.
   */
  static final Object[] CANARY_ARGS = {
    new Route("canary", List.of(new Point(3, 4)), new HashMap<>(Map.of("a", List.of(1, 2)))),
    new Point(5, 6),
    "text"
  };

  private static final byte[] CANARY = canary();

  private static byte[] canary() {
    End peer = new End();
    ByteBuf body = peer.connection.encode(new Message.Call(1, Wire.ROOT_ID, "canary", CANARY_ARGS, false));
    try {
      return ByteBufUtil.getBytes(body);
    } finally {
      body.release();
      peer.close();
    }
  }

  /** Small, so that the fuzzer reaches the reference limit. */
  static final int MAX_REFERENCES = 8;

  /**
   * Exceptions that mean the decoder ran into its own bug: never a right answer to bad input,
   * even when the broker turns them into an error for one call.
   */
  static final List<Class<? extends Throwable>> BUGS =
      List.of(
          NullPointerException.class,
          ClassCastException.class,
          IndexOutOfBoundsException.class,
          NegativeArraySizeException.class,
          ArrayStoreException.class,
          IllegalStateException.class,
          UnsupportedOperationException.class,
          java.util.ConcurrentModificationException.class,
          Error.class);

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  /** One receiving end: a real connection on an embedded channel, and its decoding Kryo. */
  static final class End {
    final QueuedExecutor executor = new QueuedExecutor();
    final EmbeddedChannel channel = new EmbeddedChannel();
    final Connection connection;
    final PbKryo kryo;

    End() {
      connection =
          new Connection(
              channel,
              new BrokerConfig(
                  REGISTRY,
                  executor,
                  Wire.DEFAULT_MAX_FRAME,
                  Wire.DEFAULT_MAX_MESSAGE,
                  Wire.DEFAULT_MAX_DEPTH,
                  MAX_REFERENCES,
                  false,
                  Wire.DEFAULT_MAX_DECODE_EXPANSION));
      connection.createRoot(c -> new Root());
      executor.runAll();
      kryo = KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, connection.reader());
    }

    /** Decodes as {@link MessageCodec} does; the message, or the exception it threw. */
    Object decode(byte[] body, DecodeContext context) {
      try {
        return WireCodec.decode(
            body, kryo, context, Wire.DEFAULT_MAX_DEPTH, Wire.DEFAULT_MAX_MESSAGE);
      } catch (PbException e) {
        return e;
      } finally {
        connection.reader().takeInits();
      }
    }

    void close() {
      channel.finishAndReleaseAll();
    }
  }

  /**
   * Any bytes decode to a message, an Undecodable whose cause is UNSERIALIZABLE, LIMIT_EXCEEDED
   * or PROTOCOL_ERROR, or a PROTOCOL_ERROR or LIMIT_EXCEEDED PbException; no cause is one of
   * {@link #BUGS}; and the decode allocates within its budget.
   */
  @FuzzTest(maxDuration = "30s")
  void anyBytesDecodeToAMessageOrARefusal(byte[] body) {
    // Decode twice, each on a fresh connection, and measure the second: the first may load,
    // link (and, when fuzzing, instrument) classes, which is not the decoder's doing.
    End warm = new End();
    warm.decode(body, context(body));
    warm.close();

    End end = new End();
    DecodeContext context = context(body);
    long tid = Thread.currentThread().getId();
    long before = THREADS.getThreadAllocatedBytes(tid);
    Object outcome = end.decode(body, context);
    long allocated = THREADS.getThreadAllocatedBytes(tid) - before;
    Object next = end.decode(CANARY, context(CANARY));
    end.close();

    check(outcome);
    if (!(next instanceof Message.Call call) || !Arrays.equals(call.args(), CANARY_ARGS)) {
      throw new AssertionError("after this message (" + describe(outcome) + ") a valid one decoded"
          + " to " + describe(next) + " on the same connection");
    }
    long budget = allocationBudget(body.length);
    long charged = Math.min(context.allocated(), budget);
    long bound = Math.min(2 * budget, 4 * charged + 64L * body.length + SLACK);
    if (allocated > bound) {
      throw new AssertionError("decoding " + body.length + " bytes allocated " + allocated
          + " bytes; the budget was charged " + context.allocated() + " (limit " + budget
          + "), so the bound is " + bound + "; outcome: " + describe(outcome));
    }
  }

  /**
   * What a decode may allocate beyond what it charges: Kryo's and the decoder's own bookkeeping,
   * the exceptions of a refusal with their messages, and Jazzer's hooks when fuzzing.
   */
  static final long SLACK = 256 << 10;

  static DecodeContext context(byte[] body) {
    return new DecodeContext(body.length, Wire.DEFAULT_MAX_DECODE_EXPANSION);
  }

  static long allocationBudget(int bytes) {
    return (long) Wire.DEFAULT_MAX_DECODE_EXPANSION * bytes + DecodeContext.ALLOCATION_FLOOR;
  }

  static void check(Object outcome) {
    if (outcome instanceof PbException e) {
      if (e.code() != Code.PROTOCOL_ERROR && e.code() != Code.LIMIT_EXCEEDED) {
        throw new AssertionError("decoding failed with " + e.code() + ": " + e.getMessage(), e);
      }
      checkCauses(e);
    } else if (outcome instanceof Message.Undecodable bad) {
      Code code = bad.cause().code();
      if (code != Code.UNSERIALIZABLE && code != Code.LIMIT_EXCEEDED && code != Code.PROTOCOL_ERROR) {
        throw new AssertionError("an undecodable value failed with " + code, bad.cause());
      }
      checkCauses(bad.cause());
    } else if (outcome instanceof Message.UndecodablePush bad) {
      check(new Message.Undecodable(Wire.CACHE_UPDATE, 0, bad.cause()));
    } else if (!(outcome instanceof Message)) {
      throw new AssertionError("decoded to " + outcome);
    }
  }

  static void checkCauses(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      for (Class<? extends Throwable> bug : BUGS) {
        if (bug.isInstance(t)) {
          throw new AssertionError("decoding failed because of a " + t.getClass().getName()
              + " on the way (reported as \"" + failure.getMessage() + "\")", failure);
        }
      }
    }
  }

  private static String describe(Object outcome) {
    if (outcome instanceof Throwable t) {
      return t.toString();
    }
    if (outcome instanceof Message.Undecodable bad) {
      return "Undecodable: " + bad.cause().getMessage();
    }
    return outcome.getClass().getSimpleName();
  }
}
