package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.kryo5.ClassResolver;
import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.Registration;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbRegistry;
import java.io.ByteArrayOutputStream;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reaches package-private decoding pieces from tests in other packages. */
public final class TestAccess {
  private TestAccess() {}

  private static final KryoSetup.ReferenceCodec NO_REFERENCES =
      new KryoSetup.ReferenceCodec() {
        @Override
        public void write(Kryo k, Output o, Object v) {
          throw new UnsupportedOperationException("no references in raw test messages");
        }

        @Override
        public Object read(Kryo k, Input i) {
          i.readByte();
          i.readVarInt(true);
          return "<reference>";
        }
      };

  /** Decodes {@code value} as one value under the per-message budget; it must fail. */
  public static void assertDecodeFails(byte[] value, String messagePart) {
    PbKryo kryo = KryoSetup.create(PbRegistry.defaults(), Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    Throwable failure = null;
    kryo.beginDecode(new DecodeContext(value.length, Wire.DEFAULT_MAX_DECODE_EXPANSION));
    try {
      kryo.readClassAndObject(new Input(value));
    } catch (RuntimeException e) {
      failure = e;
    } finally {
      kryo.endDecode();
    }
    assertThat((Throwable) failure).isNotNull();
    assertThat((Throwable) failure).hasMessageContaining(messagePart);
  }

  /** The bytes of the registry HELLO a side with {@code registry} sends. */
  public static int helloSize(PbRegistry registry) {
    return WireCodec.helloSize(registry);
  }

  /** The probe steps a message of {@code bytes} bytes may take (docs/PROTOCOL.md). */
  public static long probeBudget(int bytes) {
    return (long) DecodeContext.PROBE_FACTOR * bytes + DecodeContext.PROBE_FLOOR;
  }

  /** The heap a message of {@code bytes} bytes may decode to by default (docs/PROTOCOL.md). */
  public static long allocationBudget(int bytes) {
    return (long) Wire.DEFAULT_MAX_DECODE_EXPANSION * bytes + DecodeContext.ALLOCATION_FLOOR;
  }

  /** Incoming calls waiting to run above which a connection is no longer read. */
  public static int callBacklogMax() {
    return CallSequence.QUEUED_MAX;
  }

  /** Bytes a connection still reads and drops after it has started closing. */
  public static int lingerDropMax() {
    return ChunkCodec.DROP_MAX;
  }

  /** The largest message an event loop decodes itself. */
  public static int inlineDecodeMax() {
    return MessageCodec.INLINE_MAX;
  }

  /**
   * Runs {@code hook} on the decode thread before every offloaded decode (null: none). Tests
   * block it on a latch to hold a decode in progress.
   */
  public static void beforeOffloadedDecode(Runnable hook) {
    MessageCodec.beforeOffloadedDecode = hook == null ? null : connection -> hook.run();
  }

  // ---- raw messages, as a hostile peer writes them ----

  /** A set that is sent as a HashSet without ever hashing its elements (an attacker's view). */
  public static Set<Object> unhashedSet(Collection<?> elements) {
    return new UnhashedSet(Collections.unmodifiableList(new ArrayList<>(elements)));
  }

  /** A map that is sent as a HashMap without ever hashing its keys (an attacker's view). */
  public static Map<Object, Object> unhashedMap(List<?> keys, List<?> values) {
    List<Map.Entry<Object, Object>> entries = new ArrayList<>();
    for (int i = 0; i < keys.size(); i++) {
      entries.add(new AbstractMap.SimpleImmutableEntry<>(keys.get(i), values.get(i)));
    }
    return new UnhashedMap(entries);
  }

  /**
   * A list sent as an ArrayList of {@code n} copies of {@code element} (one value on the wire per
   * element), without holding n objects here.
   */
  public static List<Object> repeatedList(Object element, int n) {
    return new RepeatedList(element, n);
  }

  private static final class RepeatedList extends java.util.AbstractList<Object> {
    private final Object element;
    private final int n;

    RepeatedList(Object element, int n) {
      this.element = element;
      this.n = n;
    }

    @Override
    public Object get(int i) {
      return element;
    }

    @Override
    public int size() {
      return n;
    }
  }

  private static final class UnhashedSet extends HashSet<Object> {
    private static final long serialVersionUID = 1L;
    private final List<Object> elements;

    UnhashedSet(List<Object> elements) {
      this.elements = elements;
    }

    @Override
    public int size() {
      return elements.size();
    }

    @Override
    public Iterator<Object> iterator() {
      return elements.iterator();
    }
  }

  private static final class UnhashedMap extends HashMap<Object, Object> {
    private static final long serialVersionUID = 1L;
    private final List<Map.Entry<Object, Object>> entries;

    UnhashedMap(List<Map.Entry<Object, Object>> entries) {
      this.entries = entries;
    }

    @Override
    public int size() {
      return entries.size();
    }

    @Override
    public Set<Map.Entry<Object, Object>> entrySet() {
      return new AbstractSet<>() {
        @Override
        public Iterator<Map.Entry<Object, Object>> iterator() {
          return entries.iterator();
        }

        @Override
        public int size() {
          return entries.size();
        }
      };
    }
  }

  static PbKryo encoder(PbRegistry registry) {
    PbKryo kryo = KryoSetup.create(registry, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    Registration set = kryo.getRegistration(HashSet.class);
    Registration map = kryo.getRegistration(HashMap.class);
    // the views write the ids of HashSet and HashMap, which stay registered as themselves
    ClassResolver classes = kryo.getClassResolver();
    classes.register(new Registration(UnhashedSet.class, set.getSerializer(), set.getId()));
    classes.register(new Registration(UnhashedMap.class, map.getSerializer(), map.getId()));
    classes.register(set);
    classes.register(map);
    Registration list = kryo.getRegistration(ArrayList.class);
    classes.register(new Registration(RepeatedList.class, list.getSerializer(), list.getId()));
    classes.register(list);
    return kryo;
  }

  /** The preamble and a HELLO announcing {@code registry}, framed. */
  public static byte[] preambleAndHello(PbRegistry registry) {
    Map<Integer, String> names = KryoSetup.describe(registry);
    Message hello = new Message.Hello(List.copyOf(names.keySet()), List.copyOf(names.values()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(Wire.MAGIC);
    out.write(0);
    out.write(Wire.PROTOCOL_VERSION);
    out.writeBytes(frames(body(registry, hello)));
    return out.toByteArray();
  }

  /** A CALL of {@code method} on the root, framed; arguments may be unhashed sets or maps. */
  public static byte[] call(PbRegistry registry, int requestId, String method, Object... args) {
    return frames(body(registry, new Message.Call(requestId, Wire.ROOT_ID, method, args, false)));
  }

  /** A CALL of {@code method} on the object {@code target} (any id the peer chooses), framed. */
  public static byte[] callOn(
      PbRegistry registry, int requestId, int target, String method, Object... args) {
    return frames(body(registry, new Message.Call(requestId, target, method, args, false)));
  }

  static byte[] body(PbRegistry registry, Message message) {
    Output out = new Output(4096, Wire.DEFAULT_MAX_MESSAGE);
    WireCodec.encode(message, encoder(registry), out);
    return out.toBytes();
  }

  /** Splits a message body into frames of the default frame limit. */
  public static byte[] frames(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int chunk = Wire.DEFAULT_MAX_FRAME - 1;
    int from = 0;
    do {
      int n = Math.min(chunk, body.length - from);
      boolean more = from + n < body.length;
      int length = n + 1;
      out.write(length >>> 24);
      out.write(length >>> 16);
      out.write(length >>> 8);
      out.write(length);
      out.write(more ? Wire.FLAG_MORE : 0);
      out.write(body, from, n);
      from += n;
    } while (from < body.length);
    return out.toByteArray();
  }

  /**
   * The messages in what a server sent to a raw peer (after its preamble), one line each:
   * {@code ERROR <id> <code>: <message>}, {@code ANSWER <id> <value>} or the message's type. An
   * incomplete message at the end is left out.
   */
  public static List<String> messages(byte[] received, PbRegistry registry) {
    List<String> lines = new ArrayList<>();
    PbKryo kryo = KryoSetup.create(registry, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    ByteArrayOutputStream message = new ByteArrayOutputStream();
    int at = Wire.PREAMBLE_LENGTH;
    while (at + Wire.LENGTH_FIELD <= received.length) {
      int length =
          ((received[at] & 0xff) << 24)
              | ((received[at + 1] & 0xff) << 16)
              | ((received[at + 2] & 0xff) << 8)
              | (received[at + 3] & 0xff);
      if (at + Wire.LENGTH_FIELD + length > received.length) {
        break;
      }
      boolean more = (received[at + Wire.LENGTH_FIELD] & Wire.FLAG_MORE) != 0;
      message.write(received, at + Wire.LENGTH_FIELD + 1, length - 1);
      at += Wire.LENGTH_FIELD + length;
      if (!more) {
        lines.add(describe(WireCodec.decode(message.toByteArray(), kryo, 64, Integer.MAX_VALUE)));
        message.reset();
      }
    }
    return lines;
  }

  private static String describe(Message m) {
    if (m instanceof Message.Error e) {
      return "ERROR " + e.requestId() + " " + e.error().code() + ": " + e.error().message();
    }
    if (m instanceof Message.Answer a) {
      return "ANSWER " + a.requestId() + " " + a.result();
    }
    return m.getClass().getSimpleName().toUpperCase(java.util.Locale.ROOT);
  }
}
