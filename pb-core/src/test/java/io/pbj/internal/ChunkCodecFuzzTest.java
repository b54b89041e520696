package io.pbj.internal;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.testing.PbCleanup;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Jazzer target for the frame and chunk decoder ({@link ChunkCodec}) on an {@link
 * EmbeddedChannel}: any byte stream, cut into reads at places the fuzzer chooses, gives exactly
 * the messages that docs/PROTOCOL.md §2 says it holds, or the refusal it says, and nothing else.
 * What the spec says is computed by a small reference reader in this class ({@link Model}), byte
 * by byte, independently of the codec.
 *
 * <p>Per execution it also checks that every buffer the codec was handed or allocated is released
 * once the channel closes (through a {@link TrackingAllocator}: exact and immediate, where Netty's
 * leak detector reports only after a garbage collection), and that between reads the codec holds
 * at most twice the bytes of the message so far plus 64 (what it promises), all of it charged to
 * the server's budget when there is one. The leak detector runs too (paranoid, recorded by {@link
 * PbCleanup}): after each seed in regression mode, after the whole run when fuzzing.
 *
 * <p>Input: byte 0 chooses the limits ({@link Config}), byte 1 the number of reads (bits 0-4: up
 * to 31 cuts) and whether the connection stops accepting after the first message (bit 5), then two
 * bytes per cut (its place, scaled to the stream's length), then the stream. With bit 7 of byte 0
 * the stream is not given raw but as frame headers (flags, 3-byte length), each followed by a
 * generated chunk of that length, so that a few bytes of input reach messages beyond 64 KiB.
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/internal/ChunkCodecFuzzTestInputs/<method>/}, written
 * by {@link WireFuzzSeedWriter}. Fuzzing: see docs/FUZZING.md. Not thread-safe; Jazzer runs a
 * target on one thread.
 */
class ChunkCodecFuzzTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  static final int[] MAX_FRAMES = {256, 300, 4096, 100_000};
  static final int[] MAX_MESSAGES = {256, 1000, 5000, 300_000};
  static final int EARLY_LIMIT = 600;
  static final int BUDGET = 12_000;
  /** What a second connection on the same budget holds while the fuzzed one reads: 8 KiB. */
  static final int BYSTANDER_PARTIAL = 6000;

  static final int CONFIG_EARLY = 0x10;
  static final int CONFIG_BUDGET = 0x20;
  static final int CONFIG_BYSTANDER = 0x40;
  static final int CONFIG_FRAMES = 0x80;
  static final int READS_STOP_AFTER_FIRST = 0x20;

  /** Longest stream a frames-mode input may expand to. */
  static final int MAX_GENERATED = 512 << 10;

  /** Where generated chunks take their bytes: a window of it, at an offset below 251. */
  private static final byte[] PATTERN = new byte[4096 + 251];

  static {
    for (int i = 0; i < PATTERN.length; i++) {
      PATTERN[i] = (byte) (i * 31);
    }
  }

  /** The limits of one execution, from byte 0 of the input. */
  record Config(int maxFrame, int maxMessage, int early, boolean budget, boolean bystander, boolean frames) {
    static Config of(int b) {
      return new Config(
          MAX_FRAMES[b & 3],
          MAX_MESSAGES[(b >> 2) & 3],
          (b & CONFIG_EARLY) != 0 ? EARLY_LIMIT : 0,
          (b & CONFIG_BUDGET) != 0,
          (b & CONFIG_BUDGET) != 0 && (b & CONFIG_BYSTANDER) != 0,
          (b & CONFIG_FRAMES) != 0);
    }
  }

  /**
   * Any stream in any reads gives the messages the spec finds in it, in order, and the number of
   * frame-progress events it implies; a stream the spec refuses is refused with the spec's code
   * (PROTOCOL_ERROR or LIMIT_EXCEEDED) and reason, after the same messages; a refusal by the
   * server's budget (only with one) comes after a prefix of them. Nothing else is thrown; between
   * reads the codec holds at most twice the message so far plus 64 bytes, exactly what the budget
   * was charged, and nothing after a refusal; after close every buffer is released and the budget
   * is back to zero.
   */
  @FuzzTest(maxDuration = "30s")
  void anyStreamInAnyReadsGivesTheSpecsMessagesOrItsRefusal(byte[] input) {
    if (input.length < 2) {
      return;
    }
    Config config = Config.of(input[0] & 0xFF);
    int cutCount = input[1] & 0x1F;
    boolean stopAfterFirst = (input[1] & READS_STOP_AFTER_FIRST) != 0;
    int at = 2;
    int[] rawCuts = new int[cutCount];
    for (int i = 0; i < cutCount && at + 1 < input.length; i++, at += 2) {
      rawCuts[i] = ((input[at] & 0xFF) << 8) | (input[at + 1] & 0xFF);
    }
    byte[] rest = Arrays.copyOfRange(input, Math.min(at, input.length), input.length);
    byte[] stream = config.frames() ? generate(rest) : rest;
    int[] cuts = new int[cutCount + 2];
    for (int i = 0; i < cutCount; i++) {
      cuts[i + 1] = (int) ((long) rawCuts[i] * (stream.length + 1) >>> 16);
    }
    cuts[cutCount + 1] = stream.length;
    Arrays.sort(cuts);

    Model expected = new Model(config, stopAfterFirst, stream, cuts);
    run(config, stopAfterFirst, stream, cuts, expected);
  }

  private static void run(
      Config config, boolean stopAfterFirst, byte[] stream, int[] cuts, Model expected) {
    InboundBudget budget = config.budget() ? new InboundBudget(BUDGET) : null;
    TrackingAllocator bystanderAlloc = new TrackingAllocator();
    EmbeddedChannel bystander = null;
    if (config.bystander()) {
      bystander = channel(bystanderAlloc);
      bystander.pipeline().addLast(
          new ChunkCodec(100_000, 300_000, () -> true, new ChunkCodec.Limits(budget, 0, 0, () -> true)));
      ByteBuf partial = bystanderAlloc.buffer(5 + BYSTANDER_PARTIAL);
      partial.writeInt(1 + 2 * BYSTANDER_PARTIAL).writeByte(0).writeZero(BYSTANDER_PARTIAL);
      bystander.writeInbound(partial);
    }

    TrackingAllocator alloc = new TrackingAllocator();
    AtomicBoolean accepting = new AtomicBoolean(true);
    Recorder recorder = new Recorder(stopAfterFirst ? accepting : null);
    EmbeddedChannel channel = channel(alloc);
    channel.pipeline().addLast(
        new ChunkCodec(
            config.maxFrame(),
            config.maxMessage(),
            accepting::get,
            new ChunkCodec.Limits(budget, 0, config.early(), () -> false)),
        recorder);

    PbException refusal;
    try {
      refusal = feed(stream, cuts, expected, channel, alloc, recorder, budget, bystander, bystanderAlloc);
    } catch (RuntimeException | Error e) {
      closeQuietly(channel); // a failed check leaves no buffer behind for the leak detector
      closeQuietly(bystander);
      throw e;
    }

    channel.finishAndReleaseAll();
    if (bystander != null) {
      bystander.runPendingTasks();
      try {
        bystander.checkException();
      } catch (PbException e) {
        if (e.code() != Code.LIMIT_EXCEEDED || !e.getMessage().contains("held the most")) {
          throw new AssertionError("the bystander failed with " + e, e);
        }
      }
      bystander.finishAndReleaseAll();
    }
    List<String> live = alloc.unreleased();
    live.addAll(bystanderAlloc.unreleased());
    if (!live.isEmpty()) {
      throw new AssertionError("buffers not released after close: " + live);
    }
    if (budget != null && budget.used() != 0) {
      throw new AssertionError("the budget is charged " + budget.used() + " bytes after close");
    }
    compare(expected, recorder, refusal, budget != null);
  }

  /** Feeds the stream in its reads, checking what the codec holds after each; answers the refusal. */
  private static PbException feed(
      byte[] stream,
      int[] cuts,
      Model expected,
      EmbeddedChannel channel,
      TrackingAllocator alloc,
      Recorder recorder,
      InboundBudget budget,
      EmbeddedChannel bystander,
      TrackingAllocator bystanderAlloc) {
    PbException refusal = null;
    for (int i = 1; i < cuts.length; i++) {
      int from = cuts[i - 1];
      int n = cuts[i] - from;
      if (n == 0) {
        continue;
      }
      ByteBuf read = alloc.buffer(n).writeBytes(stream, from, n);
      try {
        channel.writeInbound(read);
      } catch (PbException e) {
        if (refusal != null) {
          throw new AssertionError("a second refusal after \"" + refusal.getMessage() + "\"", e);
        }
        refusal = e;
      }
      if (read.refCnt() != 0) {
        throw new AssertionError("a read of " + n + " bytes was not released (refCnt " + read.refCnt() + ")");
      }
      if (bystander != null) {
        bystander.runPendingTasks(); // an eviction closes it on its own event loop
      }
      long held = alloc.held();
      if ((refusal != null || recorder.stopped) && held != 0) {
        throw new AssertionError("after " + cuts[i] + " bytes the codec still holds " + held
            + " bytes, though it " + (refusal != null ? "refused: " + refusal.getMessage() : "stopped"));
      }
      long arrived = expected.arrivedAt(i);
      if (held > 2 * arrived + 64) {
        throw new AssertionError("after " + cuts[i] + " bytes the codec holds " + held
            + " bytes for a message of which " + arrived + " bytes arrived");
      }
      if (budget != null && budget.used() != held + bystanderAlloc.held()) {
        throw new AssertionError("after " + cuts[i] + " bytes the budget is charged " + budget.used()
            + " bytes but the codecs hold " + held + " + " + bystanderAlloc.held());
      }
    }
    return refusal;
  }

  private static void closeQuietly(EmbeddedChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.finishAndReleaseAll();
    } catch (RuntimeException e) {
      // a refusal recorded on the way out: the failure being reported matters more
    }
  }

  private static void compare(Model expected, Recorder got, PbException refusal, boolean budget) {
    boolean byBudget =
        refusal != null && budget && refusal.code() == Code.LIMIT_EXCEEDED
            && refusal.getMessage().contains("budget for partly received messages");
    List<byte[]> want = expected.messages;
    if (got.messages.size() > want.size()
        || (!byBudget && got.messages.size() != want.size())) {
      throw new AssertionError("got " + got.messages.size() + " messages, the spec says "
          + want.size() + (refusal != null ? " (refused: " + refusal.getMessage() + ")" : ""));
    }
    for (int i = 0; i < got.messages.size(); i++) {
      if (!Arrays.equals(got.messages.get(i), want.get(i))) {
        throw new AssertionError("message " + i + " differs: " + got.messages.get(i).length
            + " bytes, the spec says " + want.get(i).length);
      }
    }
    if (byBudget) {
      if (got.progress > expected.progress) {
        throw new AssertionError(got.progress + " frame-progress events, the spec says at most " + expected.progress);
      }
      return;
    }
    if (got.progress != expected.progress) {
      throw new AssertionError(got.progress + " frame-progress events, the spec says " + expected.progress);
    }
    if (expected.refusal == null && refusal != null) {
      throw new AssertionError("refused, but the spec accepts the stream: " + refusal, refusal);
    }
    if (expected.refusal != null && refusal == null) {
      throw new AssertionError("not refused; the spec says " + expected.refusal + ": " + expected.reason);
    }
    if (refusal != null
        && (refusal.code() != expected.refusal || !refusal.getMessage().contains(expected.reason))) {
      throw new AssertionError("refused with " + refusal.code() + " \"" + refusal.getMessage()
          + "\"; the spec says " + expected.refusal + " naming \"" + expected.reason + "\"", refusal);
    }
  }

  private static EmbeddedChannel channel(TrackingAllocator alloc) {
    EmbeddedChannel channel = new EmbeddedChannel();
    channel.config().setAllocator(alloc);
    return channel;
  }

  /**
   * Frames mode: the input is read as frame headers (flags byte, 3-byte length), each followed
   * by a generated chunk of that length minus one (half of it when bit 6 of the flags is set, which
   * is cleared on the wire); a header cut short is written as it is.
   */
  static byte[] generate(byte[] specs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    for (; i + 4 <= specs.length && out.size() < MAX_GENERATED; i += 4) {
      int flags = specs[i] & 0xFF;
      int length = ((specs[i + 1] & 0xFF) << 16) | ((specs[i + 2] & 0xFF) << 8) | (specs[i + 3] & 0xFF);
      out.write(length >>> 24);
      out.write(length >>> 16);
      out.write(length >>> 8);
      out.write(length);
      out.write(flags & ~0x40);
      int chunk = Math.max(0, length - 1);
      if ((flags & 0x40) != 0) {
        chunk /= 2;
      }
      chunk = Math.min(chunk, MAX_GENERATED - out.size());
      for (int k = 0; k < chunk; k += 4096) {
        out.write(PATTERN, (i + k) % 251, Math.min(4096, chunk - k));
      }
    }
    out.write(specs, i, specs.length - i);
    return out.toByteArray();
  }

  /** The handler after the codec: takes each message's bytes and releases it at once. */
  static final class Recorder extends ChannelInboundHandlerAdapter {
    final List<byte[]> messages = new ArrayList<>();
    final AtomicBoolean stopAfterFirst;
    int progress;
    boolean stopped;

    Recorder(AtomicBoolean stopAfterFirst) {
      this.stopAfterFirst = stopAfterFirst;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      ByteBuf buf = (ByteBuf) msg;
      try {
        messages.add(ByteBufUtil.getBytes(buf));
      } finally {
        buf.release();
      }
      if (stopAfterFirst != null) {
        stopAfterFirst.set(false); // as when the connection starts failing after a message
        stopped = true;
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt == ChunkCodec.FRAME_PROGRESS) {
        progress++;
      } else {
        ctx.fireUserEventTriggered(evt);
      }
    }
  }

  /**
   * What docs/PROTOCOL.md §2 makes of a stream, its headers read byte by byte: the messages, the frames with
   * MORE that completed, the refusal (code and a phrase of its reason) if any, and for each cut
   * how many chunk bytes of an unfinished message had arrived.
   */
  static final class Model {
    final List<byte[]> messages = new ArrayList<>();
    int progress;
    Code refusal;
    String reason;
    private final long[] arrivedAtCut;

    Model(Config config, boolean stopAfterFirst, byte[] stream, int[] cuts) {
      arrivedAtCut = new long[cuts.length];
      int header = 0;
      int length = 0;
      boolean more = false;
      long bodyLeft = 0;
      long size = 0;
      ByteArrayOutputStream message = new ByteArrayOutputStream();
      int cut = 0;
      boolean done = false;
      int p = 0;
      while (!done) {
        while (cut < cuts.length && cuts[cut] == p) {
          arrivedAtCut[cut++] = message.size();
        }
        if (p == stream.length) {
          break;
        }
        boolean frameDone = false;
        if (header == 5) {
          // chunk bytes, taken up to the next cut at most
          int until = cut < cuts.length ? cuts[cut] : stream.length;
          int n = (int) Math.min(bodyLeft, until - p);
          message.write(stream, p, n);
          p += n;
          bodyLeft -= n;
          frameDone = bodyLeft == 0;
        } else {
          int b = stream[p++] & 0xFF;
          if (header < 4) {
            length = (length << 8) | b;
            if (++header == 4) {
              if (length == 0) {
                done = refuse(Code.PROTOCOL_ERROR, "empty frame");
              } else if (length < 0) {
                done = refuse(Code.PROTOCOL_ERROR, "corrupt frame: length " + length);
              } else if (length > config.maxFrame()) {
                done = refuse(Code.LIMIT_EXCEEDED, "larger than the frame limit of " + config.maxFrame() + " bytes");
              }
            }
          } else {
            header++;
            more = (b & Wire.FLAG_MORE) != 0;
            int chunk = length - 1;
            if ((b & ~Wire.FLAG_MORE) != 0) {
              done = refuse(Code.PROTOCOL_ERROR, "unknown frame flags 0x" + Integer.toHexString(b));
            } else if (more && chunk < Wire.MIN_FRAME - 1) {
              done = refuse(Code.PROTOCOL_ERROR, "carries only " + chunk + " bytes");
            } else if (size + chunk > config.maxMessage()) {
              done = refuse(Code.LIMIT_EXCEEDED, "larger than the message limit of " + config.maxMessage() + " bytes");
            } else if (config.early() > 0 && size + chunk > config.early()) {
              done = refuse(Code.LIMIT_EXCEEDED, "larger than the limit of " + config.early()
                  + " bytes for a connection that has not finished its handshake and login");
            } else {
              size += chunk;
              bodyLeft = chunk;
              frameDone = chunk == 0;
            }
          }
        }
        if (frameDone) {
          header = 0;
          length = 0;
          if (more) {
            progress++;
          } else {
            messages.add(message.toByteArray());
            message.reset();
            size = 0;
            done = stopAfterFirst;
          }
        }
      }
      while (cut < cuts.length) {
        arrivedAtCut[cut++] = 0; // refused or stopped: nothing is held any more
      }
    }

    private boolean refuse(Code code, String why) {
      refusal = code;
      reason = why;
      return true;
    }

    /** Chunk bytes of the unfinished message once the stream up to cut {@code i} has arrived. */
    long arrivedAt(int i) {
      return arrivedAtCut[i];
    }
  }
}
