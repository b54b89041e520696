package io.pbj.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.pbj.PbException;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Turns whole incoming message bodies into {@link Inbound} messages, with the channel's decoding
 * Kryo, and releases the buffers: nothing after this handler is reference counted. Outgoing
 * messages are encoded before they reach the channel, by {@link Connection#encode}, on the
 * sending thread.
 *
 * <p>A value that fails to decode becomes a {@link Message.Undecodable} for the broker to answer;
 * a broken envelope fails the connection.
 *
 * <p><b>Where decoding runs.</b> The event loop is shared by many channels, so it decodes a
 * message itself only when the message is small (at most {@link #INLINE_MAX} bytes) and no
 * earlier message of this channel is waiting or being decoded. Anything else waits in this
 * channel's queue, in arrival order; the queue is worked off on the event loop, small messages
 * decoded there (at most {@link #INLINE_MAX} bytes' worth before other channels get their turn)
 * and large ones handed, one at a time, to the {@link DecodePool}, whose result comes back to the
 * event loop before the next message is touched. So messages reach the handlers after this one
 * in exactly the order they arrived, those handlers stay on the event loop, and the Kryo and the
 * connection's reference decoder are used by one thread at a time (each hand-over goes through
 * an executor's queue, which orders the uses). While more than {@link #QUEUED_MAX} bytes wait,
 * the channel stops reading (a {@link ReadPause}) until half of them are decoded, so what a peer
 * can make a connection hold stays bounded. When the channel closes, the waiting buffers are
 * released, the one queued for the pool too, and a decode in progress is stopped at its next
 * value; likewise at the next turn of the queue once the connection has started closing (it
 * lingers after a goodbye, and nothing it decodes then would be delivered).
 *
 * <p>Thread-safety: per channel; its state is confined to the channel's event loop, and an
 * offloaded decode touches only the Kryo, the reference decoder and its own message.
 */
final class MessageCodec extends ChannelInboundHandlerAdapter {
  /** A decoded message and the cache initialisations its values need before delivery. */
  record Inbound(Message message, List<Runnable> inits) {}

  /**
   * Largest message decoded on the event loop itself. An ordinary message of this size decodes in
   * well under a millisecond; the worst within its budgets (hash groups that use the whole probe
   * budget) in about 10 ms, measured. At 64 KiB that worst case was about 30 ms.
   */
  static final int INLINE_MAX = 16 << 10;

  /** Bytes of waiting messages above which the channel stops reading. */
  static final int QUEUED_MAX = 1 << 20;

  private static final String DECODE_BACKLOG = "messages wait to be decoded";

  /**
   * Test hook: runs on the decode thread before each offloaded decode, with the connection whose
   * message it is. Null in production.
   */
  static volatile Consumer<Connection> beforeOffloadedDecode;

  /** A message waiting to be decoded: small ones copied out at once, large ones still a buffer. */
  private record Waiting(byte[] bytes, ByteBuf buf, int size) {}

  private final PbKryo kryo;
  private final Connection connection;
  private final ReferenceReader references;
  private final Executor offload;
  private final InboundBudget budget;
  private InboundBudget.Holder holder;
  /** Bytes of the message now on the decode pool, still charged to the budget. */
  private long offloadedBytes;
  /**
   * The buffer of the message handed to the decode pool until the pool takes it: whoever takes
   * it first, the pool to decode or {@link #stop} to drop, releases it. So a connection closed
   * while its message waits in the pool's queue frees that memory at once, as the budget's
   * refund assumes, not when the pool gets round to it.
   */
  private final AtomicReference<ByteBuf> inPool = new AtomicReference<>();

  // Confined to the event loop.
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private long waitingBytes;
  private DecodeContext offloaded;
  private boolean stopped;
  private boolean pausedReading;
  private boolean drainScheduled;
  /**
   * Bytes this channel decoded on the event loop since it last let the loop's other channels have
   * a turn (the end of a read, or a drain rescheduled behind them): at most {@link #INLINE_MAX},
   * however many messages one read brought.
   */
  private int inlineThisTurn;

  MessageCodec(PbKryo kryo, Connection connection, ReferenceReader references) {
    this(kryo, connection, references, DecodePool.executor(), null);
  }

  MessageCodec(
      PbKryo kryo, Connection connection, ReferenceReader references, Executor offload) {
    this(kryo, connection, references, offload, null);
  }

  /**
   * @param budget the server's budget for received messages not yet decoded, or null for none:
   *     a message that waits (for the decode pool, or behind one that does) stays charged to it
   *     until it is decoded
   */
  MessageCodec(
      PbKryo kryo,
      Connection connection,
      ReferenceReader references,
      Executor offload,
      InboundBudget budget) {
    this.kryo = kryo;
    this.connection = connection;
    this.references = references;
    this.offload = offload;
    this.budget = budget;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    if (budget != null) {
      holder =
          budget.holder(
              cause -> {
                try {
                  ctx.executor().execute(() -> fail(ctx, cause));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                  // the event loop is shutting down: the channel closes with it
                }
              });
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    if (stopped) {
      buf.release();
      return;
    }
    connection.counters().messagesReceived.increment();
    int size = buf.readableBytes();
    if (offloaded == null
        && waiting.isEmpty()
        && size <= INLINE_MAX
        && inlineThisTurn + size <= INLINE_MAX) {
      inlineThisTurn += size;
      Inbound inbound;
      try {
        inbound = decode(copy(buf));
      } catch (RuntimeException e) {
        stop();
        throw e;
      }
      ctx.fireChannelRead(inbound);
      return;
    }
    if (holder != null) {
      try {
        holder.charge(size); // refunded once it is decoded
      } catch (PbException e) {
        buf.release();
        fail(ctx, e);
        return;
      }
    }
    waiting.add(
        size <= INLINE_MAX ? new Waiting(copy(buf), null, size) : new Waiting(null, buf, size));
    waitingBytes += size;
    if (waitingBytes > QUEUED_MAX && !pausedReading) {
      pausedReading = true;
      ReadPause.pause(ctx.channel(), DECODE_BACKLOG);
    }
    drain(ctx);
  }

  /** Works off the waiting messages in order, until one is offloaded or they are all done. */
  private void drain(ChannelHandlerContext ctx) {
    if (!stopped && !connection.acceptsInput()) {
      // the connection said goodbye and lingers until the peer closes: what waits would only
      // be decoded to be dropped (see Connection#received)
      stop();
      return;
    }
    while (!stopped && offloaded == null && !waiting.isEmpty()) {
      Waiting next = waiting.peek();
      if (next.bytes() != null && inlineThisTurn + next.size() > INLINE_MAX) {
        scheduleDrain(ctx); // let the other channels of this event loop have a turn
        return;
      }
      waiting.poll();
      taken(ctx, next);
      if (next.bytes() == null) {
        startOffloaded(ctx, next);
        return;
      }
      inlineThisTurn += next.size();
      Inbound inbound;
      try {
        inbound = decode(next.bytes());
      } catch (RuntimeException e) {
        fail(ctx, e);
        return;
      }
      ctx.fireChannelRead(inbound);
    }
  }

  private void scheduleDrain(ChannelHandlerContext ctx) {
    if (!drainScheduled) {
      drainScheduled = true;
      ctx.executor()
          .execute(
              () -> {
                drainScheduled = false;
                inlineThisTurn = 0;
                drain(ctx);
              });
    }
  }

  private void taken(ChannelHandlerContext ctx, Waiting message) {
    waitingBytes -= message.size();
    if (message.bytes() != null && holder != null) {
      holder.refund(message.size()); // decoded right now, on this thread
    }
    if (pausedReading && waitingBytes <= QUEUED_MAX / 2) {
      pausedReading = false;
      ReadPause.resume(ctx.channel(), DECODE_BACKLOG);
    }
  }

  private void startOffloaded(ChannelHandlerContext ctx, Waiting message) {
    DecodeContext context = newContext(message.size());
    offloaded = context;
    offloadedBytes = message.size();
    Executor loop = ctx.executor();
    inPool.set(message.buf());
    try {
      offload.execute(() -> decodeOffloaded(ctx, loop, context));
    } catch (RejectedExecutionException e) {
      inPool.getAndSet(null).release();
      offloaded = null;
      refundOffloaded();
      fail(ctx, new PbException(PbException.Code.PROTOCOL_ERROR, "cannot decode: " + e, e));
    }
  }

  /** On the decode pool: decodes one message, then hands the result back to the event loop. */
  private void decodeOffloaded(ChannelHandlerContext ctx, Executor loop, DecodeContext context) {
    ByteBuf buf = inPool.getAndSet(null);
    if (buf == null) {
      return; // the channel stopped while this waited in the queue, and released the message
    }
    byte[] bytes = copy(buf);
    Inbound inbound = null;
    RuntimeException failure = null;
    try {
      Consumer<Connection> hook = beforeOffloadedDecode;
      if (hook != null) {
        hook.accept(connection);
      }
      inbound = decode(bytes, context);
    } catch (RuntimeException e) {
      failure = e;
    } catch (Error e) {
      // the next message must not wait forever for this one: fail the connection instead
      failure = new PbException(PbException.Code.PROTOCOL_ERROR, "decoding failed: " + e, e);
    }
    Inbound decoded = inbound;
    RuntimeException failed = failure;
    try {
      loop.execute(() -> offloadedDone(ctx, decoded, failed));
    } catch (RejectedExecutionException e) {
      // the event loop is shut down, so the channel is closed: nothing waits for this message
    }
  }

  /** Back on the event loop after an offloaded decode. */
  private void offloadedDone(ChannelHandlerContext ctx, Inbound inbound, RuntimeException failure) {
    offloaded = null;
    refundOffloaded();
    if (stopped) {
      return; // the channel closed meanwhile: the message is dropped
    }
    if (failure != null) {
      fail(ctx, failure);
      return;
    }
    ctx.fireChannelRead(inbound);
    drain(ctx);
  }

  /**
   * Decodes on the event loop. Beyond its bytes, the turn is charged with what the message
   * decoded to, over the expansion allowed: a tiny message may decode to a list of a million
   * nulls within its allocation floor, and sixteen KiB of such messages must not hold the loop
   * as long as gigabytes of ordinary ones would.
   */
  private Inbound decode(byte[] bytes) {
    DecodeContext context = newContext(bytes.length);
    try {
      return decode(bytes, context);
    } finally {
      long decodedAsBytes = context.allocated() / connection.config().maxDecodeExpansion();
      inlineThisTurn += (int) Math.min(INLINE_MAX, Math.max(0, decodedAsBytes - bytes.length));
    }
  }

  private DecodeContext newContext(int bytes) {
    return new DecodeContext(bytes, connection.config().maxDecodeExpansion());
  }

  private Inbound decode(byte[] bytes, DecodeContext context) {
    Message message;
    try {
      message =
          WireCodec.decode(bytes, kryo, context, connection.config().maxDepth(), connection.config().maxMessage());
    } catch (RuntimeException e) {
      references.takeInits();
      throw e;
    }
    return new Inbound(message, references.takeInits());
  }

  private static byte[] copy(ByteBuf buf) {
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  /** A broken envelope: decode nothing more, and let the broker close the connection. */
  private void fail(ChannelHandlerContext ctx, RuntimeException e) {
    stop();
    ctx.fireExceptionCaught(e);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    inlineThisTurn = 0; // the loop serves its other channels before this one reads again
    ctx.fireChannelReadComplete();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    // The peer's last message may be a goodbye still waiting behind a decode when its end of
    // stream closed the channel: what waits is dropped with the channel, but the goodbye's
    // reason still reaches the connection, so its calls fail saying why rather than "lost".
    Waiting last = waiting.peekLast();
    Message.Goodbye goodbye =
        last != null && last.bytes() != null ? WireCodec.goodbyeIn(last.bytes()) : null;
    stop();
    if (goodbye != null) {
      ctx.fireChannelRead(new Inbound(goodbye, List.of()));
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    stop();
  }

  /** Releases what waits and stops a decode in progress at its next value. */
  private void stop() {
    stopped = true;
    for (Waiting w; (w = waiting.poll()) != null; ) {
      if (w.buf() != null) {
        w.buf().release();
      }
    }
    waitingBytes = 0;
    if (offloaded != null) {
      offloaded.cancel();
    }
    ByteBuf queued = inPool.getAndSet(null);
    if (queued != null) {
      queued.release();
    }
    if (holder != null) {
      // what the pool took is a heap copy now, dropped when its decode stops at the next value
      holder.refundAll();
      offloadedBytes = 0;
    }
  }

  private void refundOffloaded() {
    if (holder != null) {
      holder.refund(offloadedBytes);
    }
    offloadedBytes = 0;
  }
}
