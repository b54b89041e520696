package io.pbj.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.channel.DefaultChannelId;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import io.pbj.testing.PbCleanup;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jazzer target for the hello/registry handshake: a server's real {@link Pipeline} (with its
 * {@link Admission} limits; the decode pool replaced by the calling thread) on an {@link
 * EmbeddedChannel}, whose peer sends a valid preamble and
 * then any first message (the fuzzer's bytes, framed). The connection's {@code ready()} either
 * completes, exactly when the message is a HELLO whose ids agree with the server's registry, or
 * fails with the code and reason that a small independent reader of the HELLO layout in this
 * class ({@link Expected}) predicts: REGISTRY_MISMATCH naming every id that disagrees and both
 * class names, PROTOCOL_ERROR for any other message or a malformed one, LIMIT_EXCEEDED for one
 * over the limit before login, CONNECT_FAILED with the reason for a GOODBYE (how a server that
 * refuses a connection answers). A failure closes the channel; nothing escapes the pipeline; the
 * failure never stands for a programming error on the way ({@link MessageDecodeFuzzTest#BUGS},
 * which {@link BrokerHandler} would otherwise report as a PROTOCOL_ERROR); every buffer is
 * released once the channel is closed.
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/internal/HandshakeFuzzTestInputs/<method>/}, message
 * bodies written by {@link WireFuzzSeedWriter}. Fuzzing: see docs/FUZZING.md. Not thread-safe;
 * Jazzer runs a target on one thread.
 */
class HandshakeFuzzTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  record Point(int x, int y) {}

  record Label(String text) {}

  static final PbRegistry REGISTRY = PbRegistry.builder().register(Point.class, Label.class).build();

  /** What the server announces: id to class name. */
  static final Map<Integer, String> OURS = KryoSetup.describe(REGISTRY);

  /** A server's defaults where they touch the handshake; no timers, no caps. */
  static final ServerLimits LIMITS =
      new ServerLimits(
          Duration.ZERO,
          0,
          ServerLimits.DEFAULT_MAX_MESSAGE_BEFORE_LOGIN,
          Duration.ZERO,
          Duration.ZERO,
          0,
          0,
          0);

  private static final byte[] PREAMBLE = {'P', 'B', 'J', 0x1A, 0, Wire.PROTOCOL_VERSION};

  /**
   * Any first message completes the handshake exactly when it is a HELLO that agrees with the
   * server's registry, and otherwise fails the connection with the predicted code and reason;
   * the channel is then closed, nothing escapes, and every buffer is released.
   */
  @FuzzTest(maxDuration = "30s")
  void anyFirstMessageCompletesTheHandshakeOrFailsItNamingWhy(byte[] body) throws Exception {
    QueuedExecutor executor = new QueuedExecutor();
    TrackingAllocator alloc = new TrackingAllocator();
    AtomicReference<Connection> created = new AtomicReference<>();
    Pipeline pipeline =
        new Pipeline(
            TestConfigs.config(REGISTRY, executor),
            null,
            created::set,
            Pipeline.Channels.PLAIN,
            new Admission(LIMITS));
    EmbeddedChannel channel = new EmbeddedChannel(DefaultChannelId.newInstance(), false, false, pipeline);
    channel.config().setAllocator(alloc);
    channel.register();
    Connection connection = created.get();
    // Messages beyond 16 KiB are decoded off the event loop, on the decode pool: here on this
    // thread instead, so that the outcome is there when the target looks (the result still comes
    // back through the event loop's queue, as with the pool).
    channel.pipeline().replace("codec", "codec",
        new MessageCodec(
            KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, connection.reader()),
            connection,
            connection.reader(),
            Runnable::run));
    try {
      drain(channel); // the server's preamble and HELLO
      ByteBuf in = alloc.buffer(PREAMBLE.length + body.length + 5);
      in.writeBytes(PREAMBLE).writeBytes(WireFuzzSeedWriter.frames(body, Wire.DEFAULT_MAX_FRAME));
      channel.writeInbound(in); // throws what reached the end of the pipeline: nothing should
      executor.runAll();
      channel.runPendingTasks();
      drain(channel); // a GOODBYE
      check(body, connection, channel);
    } finally {
      channel.finishAndReleaseAll();
      executor.runAll();
    }
    List<String> live = alloc.unreleased();
    if (!live.isEmpty()) {
      throw new AssertionError("buffers not released after close: " + live);
    }
  }

  private static void check(byte[] body, Connection connection, EmbeddedChannel channel) {
    Expected expected = Expected.of(body);
    CompletableFuture<Connection> ready = connection.ready();
    if (!ready.isDone()) {
      throw new AssertionError("the handshake neither completed nor failed; expected " + expected);
    }
    PbException failure = failure(ready);
    if (expected.code() == null) {
      if (failure != null) {
        throw new AssertionError("a HELLO that agrees failed the handshake: " + failure, failure);
      }
      if (channel.pipeline().get("handshake") != null || !channel.isOpen()) {
        throw new AssertionError("the handshake completed, but its handler stayed or the channel closed");
      }
      return;
    }
    if (failure == null) {
      throw new AssertionError("the handshake completed; expected " + expected);
    }
    if (failure.code() != expected.code()) {
      throw new AssertionError("failed with " + failure.code() + " (" + failure.getMessage()
          + "); expected " + expected, failure);
    }
    for (String part : expected.named()) {
      if (!failure.getMessage().contains(part)) {
        throw new AssertionError("the failure \"" + failure.getMessage() + "\" does not name \""
            + part + "\"", failure);
      }
    }
    if (failure.getMessage() == null || failure.detail().isBlank()) {
      throw new AssertionError("the failure names nothing: " + failure, failure);
    }
    MessageDecodeFuzzTest.checkCauses(failure);
    if (channel.isOpen()) {
      throw new AssertionError("the connection failed (" + failure + ") but the channel is open");
    }
  }

  private static PbException failure(CompletableFuture<Connection> ready) {
    if (!ready.isCompletedExceptionally()) {
      return null;
    }
    Throwable t = ready.handle((c, e) -> e).join();
    if (!(t instanceof PbException pb)) {
      throw new AssertionError("the handshake failed with " + t, t);
    }
    return pb;
  }

  private static void drain(EmbeddedChannel channel) {
    for (Object m; (m = channel.readOutbound()) != null; ) {
      ((ByteBuf) m).release();
    }
  }

  /**
   * What the server should make of a first message, read from docs/PROTOCOL.md §3 and the
   * handshake rules independently of the codec: the failure's code (null: the handshake
   * completes) and what its message must name.
   */
  record Expected(Code code, List<String> named) {
    static Expected of(byte[] body) {
      if (body.length > ServerLimits.DEFAULT_MAX_MESSAGE_BEFORE_LOGIN) {
        return new Expected(Code.LIMIT_EXCEEDED, List.of("maxMessageSizeBeforeLogin"));
      }
      if (body.length == 0) {
        return new Expected(Code.PROTOCOL_ERROR, List.of());
      }
      Reader r = new Reader(body);
      try {
        byte type = r.next();
        if (type == Wire.GOODBYE) {
          String reason = r.string();
          return new Expected(Code.CONNECT_FAILED, List.of("refused the connection: " + reason));
        }
        if (type != Wire.HELLO) {
          return new Expected(Code.PROTOCOL_ERROR, List.of());
        }
        int n = r.varint();
        r.claim(n, 2);
        List<String> mismatches = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int id = r.varint();
          String theirs = r.string();
          if (theirs == null || theirs.length() > Wire.MAX_NAME) {
            throw new Malformed();
          }
          ids.add(id);
          String ours = OURS.get(id);
          if (id < io.pbj.PbRegistry.FIRST_NAMED_ID && ours != null && !ours.equals(theirs)) {
            mismatches.add("id " + id + " is " + ours + " here but " + theirs + " on the peer");
          }
        }
        if (!r.atEnd()) { // the versions and formats; a HELLO without them speaks version 1
          int min = r.varint();
          int max = r.varint();
          for (int id : ids) {
            if (id >= io.pbj.PbRegistry.FIRST_USER_ID) {
              r.varint();
            }
          }
          if (min < 1 || max < min) {
            return new Expected(Code.PROTOCOL_ERROR, List.of("which is no range"));
          }
          if (Math.min(Wire.PROTOCOL_VERSION, max) < Math.max(Wire.MIN_PROTOCOL_VERSION, min)) {
            return new Expected(Code.PROTOCOL_ERROR, List.of("no protocol version in common"));
          }
        }
        return mismatches.isEmpty()
            ? new Expected(null, List.of())
            : new Expected(Code.REGISTRY_MISMATCH, mismatches);
      } catch (Malformed e) {
        return new Expected(Code.PROTOCOL_ERROR, List.of("malformed message"));
      }
    }
  }

  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed() {
      super(null, null, false, false);
    }
  }

  /**
   * Reads the message layout of docs/PROTOCOL.md: varints (7 bits a byte, at most 5 bytes; bits
   * of the fifth byte beyond an int are dropped, as Kryo does), strings (varint length + 1, 0 for
   * null, then UTF-8), and the rule that all lengths claimed in a message together fit its size.
   */
  private static final class Reader {
    private final byte[] bytes;
    private int at;
    private long unclaimed;

    Reader(byte[] bytes) {
      this.bytes = bytes;
      this.unclaimed = bytes.length;
    }

    byte next() throws Malformed {
      if (at >= bytes.length) {
        throw new Malformed();
      }
      return bytes[at++];
    }

    int varint() throws Malformed {
      int result = 0;
      for (int shift = 0; shift < 35; shift += 7) {
        int b = next();
        result |= (b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
          break;
        }
      }
      return result;
    }

    boolean atEnd() {
      return at >= bytes.length;
    }

    void claim(long length, int minBytes) throws Malformed {
      if (length < 0 || length * minBytes > bytes.length - at) {
        throw new Malformed();
      }
      unclaimed -= length * minBytes;
      if (unclaimed < 0) {
        throw new Malformed();
      }
    }

    String string() throws Malformed {
      int n = varint();
      if (n == 0) {
        return null;
      }
      int length = n - 1;
      claim(length, 1);
      String s = new String(bytes, at, length, StandardCharsets.UTF_8);
      at += length;
      return s;
    }
  }
}
