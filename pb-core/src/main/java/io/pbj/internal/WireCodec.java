package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import java.util.ArrayList;
import java.util.List;

/**
 * The byte layout of every {@link Message} (docs/PROTOCOL.md): the envelope by hand, values
 * through Kryo.
 *
 * <p>Thread-safety: stateless; the Kryo and streams passed in belong to the caller.
 */
final class WireCodec {
  private WireCodec() {}

  /**
   * The bytes of the HELLO this side sends for {@code registry} (the HELLO carries no values, so
   * no Kryo is needed): every message limit of this side, and of a peer with the same registry,
   * must hold it.
   */
  static int helloSize(io.pbj.PbRegistry registry) {
    Output out = new Output(1024, -1);
    encode(KryoSetup.hello(registry, Wire.MIN_PROTOCOL_VERSION, Wire.PROTOCOL_VERSION), null, out);
    return out.position();
  }

  static void encode(Message message, Kryo kryo, Output out) {
    if (message instanceof Message.Call call) {
      out.writeByte(Wire.CALL);
      out.writeVarInt(call.requestId(), true);
      out.writeVarInt(call.target(), true);
      out.writeBoolean(call.oneWay());
      KryoSetup.writeString(out, call.method());
      writeArgs(kryo, out, call.args());
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
    } else if (message instanceof Message.CacheUpdate update) {
      writeUpdateHeader(out, update.cacheId());
      writeUpdateBody(kryo, out, update.method(), update.args());
    } else if (message instanceof Message.CacheState state) {
      out.writeByte(Wire.CACHE_STATE);
      out.writeVarInt(state.cacheId(), true);
      kryo.writeClassAndObject(out, state.state());
    } else if (message instanceof Message.UpdateFailed failed) {
      out.writeByte(Wire.UPDATE_FAILED);
      out.writeVarInt(failed.cacheId(), true);
      KryoSetup.writeString(out, failed.method());
      KryoSetup.writeString(out, failed.code());
      KryoSetup.writeString(out, failed.detail());
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
      // the extension a peer from before version negotiation neither sends nor reads
      out.writeVarInt(hello.minVersion(), true);
      out.writeVarInt(hello.maxVersion(), true);
      for (int i = 0; i < hello.ids().size(); i++) {
        if (hello.ids().get(i) >= io.pbj.PbRegistry.FIRST_USER_ID) { // built-ins have none
          out.writeVarInt(hello.formats().get(i), true);
        }
      }
    } else {
      throw new IllegalArgumentException("cannot encode " + message);
    }
  }

  /**
   * The part of a CACHE_UPDATE that names its cache, which differs between connections; {@link
   * #writeUpdateBody} writes the rest, which can be the same for every observer (see {@link
   * SharedUpdate}). Together they are exactly what {@link #encode} writes for the update.
   */
  static void writeUpdateHeader(Output out, int cacheId) {
    out.writeByte(Wire.CACHE_UPDATE);
    out.writeVarInt(cacheId, true);
  }

  /** The method and arguments of a CACHE_UPDATE; see {@link #writeUpdateHeader}. */
  static void writeUpdateBody(Kryo kryo, Output out, String method, Object[] args) {
    KryoSetup.writeString(out, method);
    writeArgs(kryo, out, args);
  }

  private static void writeArgs(Kryo kryo, Output out, Object[] args) {
    out.writeVarInt(args.length, true);
    for (Object arg : args) {
      kryo.writeClassAndObject(out, arg);
    }
  }

  /**
   * Decodes one message under fresh budgets of the default expansion; see {@link #decode(byte[],
   * PbKryo, DecodeContext, int, int)}.
   */
  static Message decode(byte[] bytes, PbKryo kryo, int maxDepth, int maxMessage) {
    return decode(
        bytes,
        kryo,
        new DecodeContext(bytes.length, Wire.DEFAULT_MAX_DECODE_EXPANSION),
        maxDepth,
        maxMessage);
  }

  /**
   * The GOODBYE that {@code bytes} hold, or null if they hold another message or a broken one.
   * Needs no Kryo, so it may run while another thread decodes with the connection's.
   */
  static Message.Goodbye goodbyeIn(byte[] bytes) {
    if (bytes.length == 0 || bytes[0] != Wire.GOODBYE) {
      return null;
    }
    Input in = new Input(bytes);
    in.readByte();
    try {
      DecodeContext context = new DecodeContext(bytes.length, Wire.DEFAULT_MAX_DECODE_EXPANSION);
      return new Message.Goodbye(KryoSetup.readString(context, in));
    } catch (RuntimeException e) {
      return null; // a broken goodbye explains nothing
    }
  }

  /**
   * Decodes one message with {@code kryo} under the budgets of {@code context}; a broken envelope
   * throws a PROTOCOL_ERROR PbException, a value that cannot be decoded (or is refused by a
   * budget) becomes a {@link Message.Undecodable}.
   */
  static Message decode(
      byte[] bytes, PbKryo kryo, DecodeContext context, int maxDepth, int maxMessage) {
    Input in = new BoundedInput(bytes, context);
    kryo.beginDecode(context);
    try {
      byte type = in.readByte();
      switch (type) {
        case Wire.HELLO:
          {
            int n = in.readVarInt(true);
            context.checkLength(in, n, 2, "registry");
            List<Integer> ids = new ArrayList<>(n);
            List<String> names = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              ids.add(in.readVarInt(true));
              String name = KryoSetup.readString(context, in);
              if (name == null || name.length() > Wire.MAX_NAME) {
                throw new KryoException(
                    "HELLO entry " + i + " has no name or one longer than " + Wire.MAX_NAME);
              }
              names.add(name);
            }
            if (in.position() >= in.limit()) {
              return new Message.Hello(ids, names); // a peer from before version negotiation
            }
            int minVersion = in.readVarInt(true);
            int maxVersion = in.readVarInt(true);
            List<Integer> formats = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
              formats.add(ids.get(i) >= io.pbj.PbRegistry.FIRST_USER_ID ? in.readVarInt(true) : 0);
            }
            // bytes after the formats are for later versions: ignored
            return new Message.Hello(ids, names, formats, minVersion, maxVersion);
          }
        case Wire.CALL:
          {
            int requestId = in.readVarInt(true);
            int target = in.readVarInt(true);
            boolean oneWay = in.readBoolean();
            String method = readName(context, in);
            try {
              Object[] args = readArgs(kryo, context, in);
              return new Message.Call(requestId, target, method, args, oneWay);
            } catch (RuntimeException e) {
              return new Message.Undecodable(
                  type,
                  oneWay ? 0 : requestId,
                  failure(e, "argument of call to '" + method + "'", false, maxDepth, maxMessage));
            }
          }
        case Wire.ANSWER:
          {
            int requestId = in.readVarInt(true);
            try {
              return new Message.Answer(requestId, kryo.readClassAndObject(in));
            } catch (RuntimeException e) {
              return new Message.Undecodable(
                  type, requestId, failure(e, "result", false, maxDepth, maxMessage));
            }
          }
        case Wire.ERROR:
          {
            int requestId = in.readVarInt(true);
            return new Message.Error(
                requestId,
                new Message.ErrorInfo(
                    KryoSetup.readString(context, in),
                    KryoSetup.readString(context, in),
                    KryoSetup.readString(context, in),
                    KryoSetup.readString(context, in)));
          }
        case Wire.CACHE_UPDATE:
          {
            int cacheId = in.readVarInt(true);
            String method = readName(context, in);
            try {
              return new Message.CacheUpdate(cacheId, method, readArgs(kryo, context, in));
            } catch (RuntimeException e) {
              return new Message.UndecodablePush(
                  cacheId,
                  method,
                  failure(e, "update '" + method + "'", false, maxDepth, maxMessage));
            }
          }
        case Wire.CACHE_STATE:
          {
            int cacheId = in.readVarInt(true);
            try {
              return new Message.CacheState(cacheId, kryo.readClassAndObject(in));
            } catch (RuntimeException e) {
              return new Message.UndecodablePush(
                  cacheId, null, failure(e, "cache state", false, maxDepth, maxMessage));
            }
          }
        case Wire.UPDATE_FAILED:
          {
            if (bytes.length > Wire.MAX_NOTICE) {
              throw new PbException(
                  Code.PROTOCOL_ERROR,
                  "an UPDATE_FAILED notice of " + bytes.length + " bytes is over the limit of "
                      + Wire.MAX_NOTICE);
            }
            int cacheId = in.readVarInt(true);
            String method = KryoSetup.readString(context, in);
            String code = KryoSetup.readString(context, in);
            String detail = KryoSetup.readString(context, in);
            return new Message.UpdateFailed(cacheId, method, code, detail);
          }
        case Wire.RELEASE:
          {
            int n = in.readVarInt(true);
            context.checkLength(in, n, 2, "release list");
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
          return new Message.Goodbye(KryoSetup.readString(context, in));
        case Wire.PING:
          return new Message.Ping(in.readLong());
        case Wire.PONG:
          return new Message.Pong(in.readLong());
        default:
          throw new PbException(Code.PROTOCOL_ERROR, "unknown message type " + type);
      }
    } catch (KryoException e) {
      throw new PbException(Code.PROTOCOL_ERROR, "malformed message: " + e.getMessage(), e);
    } finally {
      kryo.endDecode();
    }
  }

  private static String readName(DecodeContext context, Input in) {
    String method = KryoSetup.readString(context, in);
    if (method == null || method.length() > Wire.MAX_NAME) {
      throw new KryoException("bad method name");
    }
    return method;
  }

  private static Object[] readArgs(Kryo kryo, DecodeContext context, Input in) {
    int argc = in.readVarInt(true);
    context.checkLength(in, argc, 1, "argument list");
    context.allocate(HeapSizes.array(argc, HeapSizes.REFERENCE));
    Object[] args = new Object[argc];
    for (int i = 0; i < argc; i++) {
      args[i] = kryo.readClassAndObject(in);
    }
    return args;
  }

  static String describe(Message message) {
    if (message instanceof Message.Call call) {
      return "argument of call to '" + call.method() + "'";
    }
    if (message instanceof Message.Answer) {
      return "result";
    }
    if (message instanceof Message.CacheUpdate update) {
      return "update '" + update.method() + "'";
    }
    if (message instanceof Message.CacheState) {
      return "cache state";
    }
    return message.getClass().getSimpleName();
  }

  /** Maps an encoding or decoding failure to the exception the caller sees. */
  static PbException failure(
      RuntimeException e, String what, boolean encoding, int maxDepth, int maxMessage) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof PbException pb) {
        return pb;
      }
      if (t instanceof DecodeContext.Refused refused) {
        return new PbException(
            Code.LIMIT_EXCEEDED, "the " + what + " was refused: " + refused.reason(), e);
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
          "the " + what + " nests deeper than the limit of " + maxDepth + " levels",
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
