package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns whole message bodies into {@link Message} records and back. The envelope (type, request
 * id, target, method name, error fields) is written by hand; argument and result values go
 * through the connection's Kryo. Incoming buffers are released here: nothing after this handler
 * is reference counted.
 *
 * <p>A value that fails to encode fails the write's promise with a {@link PbException} (and any
 * references exported while encoding it are rolled back); a value that fails to decode becomes a
 * {@link Message.Undecodable} for the broker to answer. A broken envelope fails the connection.
 *
 * <p>Thread-safety: per channel, used on its event loop only (it owns the channel's Kryo).
 */
final class MessageCodec extends ChannelDuplexHandler {
  private static final int KEEP_BUFFER = 64 * 1024;

  private final Kryo kryo;
  private final Connection connection;
  private final int maxMessage;
  private Output output;

  MessageCodec(Kryo kryo, Connection connection, int maxMessage) {
    this.kryo = kryo;
    this.connection = connection;
    this.maxMessage = maxMessage;
    this.output = new Output(4096, maxMessage);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    ByteBuf buf = (ByteBuf) msg;
    byte[] bytes;
    try {
      bytes = ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
    connection.countMessageReceived();
    ctx.fireChannelRead(decode(bytes));
  }

  Message decode(byte[] bytes) {
    Input in = new Input(bytes);
    byte type;
    int requestId = 0;
    try {
      type = in.readByte();
      switch (type) {
        case Wire.HELLO:
          {
            int n = in.readVarInt(true);
            KryoSetup.checkLength(in, n, 2, "registry");
            List<Integer> ids = new ArrayList<>(n);
            List<String> names = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              ids.add(in.readVarInt(true));
              names.add(KryoSetup.readString(in));
            }
            return new Message.Hello(ids, names);
          }
        case Wire.CALL:
          {
            requestId = in.readVarInt(true);
            int target = in.readVarInt(true);
            boolean oneWay = in.readBoolean();
            String method = KryoSetup.readString(in);
            if (method == null || method.length() > Wire.MAX_NAME) {
              throw new KryoException("bad method name");
            }
            int argc = in.readVarInt(true);
            KryoSetup.checkLength(in, argc, 1, "argument list");
            Object[] args = new Object[argc];
            try {
              for (int i = 0; i < argc; i++) {
                args[i] = kryo.readClassAndObject(in);
              }
            } catch (RuntimeException e) {
              return new Message.Undecodable(
                  type, requestId, failure(e, "argument of call to '" + method + "'", false));
            }
            return new Message.Call(requestId, target, method, args, oneWay);
          }
        case Wire.ANSWER:
          {
            requestId = in.readVarInt(true);
            try {
              return new Message.Answer(requestId, kryo.readClassAndObject(in));
            } catch (RuntimeException e) {
              return new Message.Undecodable(type, requestId, failure(e, "result", false));
            }
          }
        case Wire.ERROR:
          {
            requestId = in.readVarInt(true);
            return new Message.Error(
                requestId,
                new Message.ErrorInfo(
                    KryoSetup.readString(in),
                    KryoSetup.readString(in),
                    KryoSetup.readString(in),
                    KryoSetup.readString(in)));
          }
        case Wire.RELEASE:
          {
            int n = in.readVarInt(true);
            KryoSetup.checkLength(in, n, 2, "release list");
            int[] ids = new int[n];
            int[] receipts = new int[n];
            for (int i = 0; i < n; i++) {
              ids[i] = in.readVarInt(true);
              receipts[i] = in.readVarInt(true);
            }
            return new Message.Release(ids, receipts);
          }
        case Wire.CANCEL:
          return new Message.Cancel(in.readVarInt(true));
        case Wire.GOODBYE:
          return new Message.Goodbye(KryoSetup.readString(in));
        case Wire.PING:
          return new Message.Ping(in.readLong());
        case Wire.PONG:
          return new Message.Pong(in.readLong());
        default:
          throw new PbException(Code.PROTOCOL_ERROR, "unknown message type " + type);
      }
    } catch (KryoException e) {
      throw new PbException(Code.PROTOCOL_ERROR, "malformed message: " + e.getMessage(), e);
    }
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (!(msg instanceof Message)) {
      ctx.write(msg, promise);
      return;
    }
    Message message = (Message) msg;
    Output out = output;
    out.reset();
    connection.beginEncode();
    boolean ok = false;
    try {
      encode(message, out);
      ok = true;
    } catch (RuntimeException e) {
      promise.setFailure(failure(e, describe(message), true));
      return;
    } finally {
      connection.endEncode(ok);
      if (!ok && out.getBuffer().length > KEEP_BUFFER) {
        output = new Output(4096, maxMessage);
      }
    }
    ByteBuf buf = ctx.alloc().buffer(out.position());
    buf.writeBytes(out.getBuffer(), 0, out.position());
    if (out.getBuffer().length > KEEP_BUFFER) {
      output = new Output(4096, maxMessage);
    }
    connection.countMessageSent();
    ctx.write(buf, promise);
  }

  private void encode(Message message, Output out) {
    if (message instanceof Message.Call call) {
      out.writeByte(Wire.CALL);
      out.writeVarInt(call.requestId(), true);
      out.writeVarInt(call.target(), true);
      out.writeBoolean(call.oneWay());
      KryoSetup.writeString(out, call.method());
      Object[] args = call.args();
      out.writeVarInt(args.length, true);
      for (Object arg : args) {
        kryo.writeClassAndObject(out, arg);
      }
    } else if (message instanceof Message.Answer answer) {
      out.writeByte(Wire.ANSWER);
      out.writeVarInt(answer.requestId(), true);
      kryo.writeClassAndObject(out, answer.result());
    } else if (message instanceof Message.Error error) {
      out.writeByte(Wire.ERROR);
      out.writeVarInt(error.requestId(), true);
      Message.ErrorInfo info = error.error();
      KryoSetup.writeString(out, info.code());
      KryoSetup.writeString(out, info.type());
      KryoSetup.writeString(out, info.message());
      KryoSetup.writeString(out, info.stack());
    } else if (message instanceof Message.Release release) {
      out.writeByte(Wire.RELEASE);
      out.writeVarInt(release.ids().length, true);
      for (int i = 0; i < release.ids().length; i++) {
        out.writeVarInt(release.ids()[i], true);
        out.writeVarInt(release.receipts()[i], true);
      }
    } else if (message instanceof Message.Cancel cancel) {
      out.writeByte(Wire.CANCEL);
      out.writeVarInt(cancel.requestId(), true);
    } else if (message instanceof Message.Goodbye goodbye) {
      out.writeByte(Wire.GOODBYE);
      KryoSetup.writeString(out, goodbye.reason());
    } else if (message instanceof Message.Ping ping) {
      out.writeByte(Wire.PING);
      out.writeLong(ping.nonce());
    } else if (message instanceof Message.Pong pong) {
      out.writeByte(Wire.PONG);
      out.writeLong(pong.nonce());
    } else if (message instanceof Message.Hello hello) {
      out.writeByte(Wire.HELLO);
      out.writeVarInt(hello.ids().size(), true);
      for (int i = 0; i < hello.ids().size(); i++) {
        out.writeVarInt(hello.ids().get(i), true);
        KryoSetup.writeString(out, hello.classNames().get(i));
      }
    } else {
      throw new IllegalArgumentException("cannot encode " + message);
    }
  }

  private static String describe(Message message) {
    if (message instanceof Message.Call call) {
      return "argument of call to '" + call.method() + "'";
    }
    if (message instanceof Message.Answer) {
      return "result";
    }
    return message.getClass().getSimpleName();
  }

  /** Maps an encoding or decoding failure to the exception the caller sees. */
  private PbException failure(RuntimeException e, String what, boolean encoding) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PbException pb) {
        return pb;
      }
    }
    String message = e.getMessage() == null ? e.toString() : firstLine(e.getMessage());
    if (message.startsWith("Buffer overflow")) {
      return new PbException(
          Code.LIMIT_EXCEEDED,
          "the " + what + " does not fit the message limit of " + maxMessage + " bytes",
          e);
    }
    if (message.contains("Max depth exceeded")) {
      return new PbException(
          Code.UNSERIALIZABLE,
          "the " + what + " nests deeper than the limit of " + connection.maxDepth() + " levels",
          e);
    }
    return new PbException(
        Code.UNSERIALIZABLE,
        (encoding ? "cannot encode the " : "cannot decode the ") + what + ": " + message,
        e);
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }
}
