package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.io.Output;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.pbj.PbRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * Writes the seed corpora of pb-core's fuzz targets under a test resources root. Run from the
 * module directory when a target's input layout or the wire format changes:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.pbj.internal.WireFuzzSeedWriter src/test/resources
 * </pre>
 *
 * <p>(with {@code cp.txt} from {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}).
 * The seeds are deterministic. Crash reproducers copied into the same directories are left alone.
 * Not thread-safe; a one-shot tool.
 */
public final class WireFuzzSeedWriter {
  private WireFuzzSeedWriter() {}

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources");
    writeChunkCodecSeeds(root.resolve(
        "io/pbj/internal/ChunkCodecFuzzTestInputs/anyStreamInAnyReadsGivesTheSpecsMessagesOrItsRefusal"));
    writeDecodeSeeds(root.resolve(
        "io/pbj/internal/MessageDecodeFuzzTestInputs/anyBytesDecodeToAMessageOrARefusal"));
    writeValueSeeds(root.resolve(
        "io/pbj/internal/ValueCodecFuzzTestInputs/anyBytesDecodeToAValueOrBadArguments"));
    writeHandshakeSeeds(root.resolve(
        "io/pbj/internal/HandshakeFuzzTestInputs/anyFirstMessageCompletesTheHandshakeOrFailsItNamingWhy"));
    writeLoginSeeds(root.resolve(
        "io/pbj/cred/LoginFuzzTestInputs/anyLoginCallsGetTheSameAnswersForKnownAndUnknownUsers"));
  }

  // ---- ChunkCodecFuzzTest ----

  /** Byte 0 of a ChunkCodecFuzzTest input: indexes into its frame and message limits, and flags. */
  private static int config(int frameIndex, int messageIndex, int flags) {
    return frameIndex | messageIndex << 2 | flags;
  }

  static void writeChunkCodecSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    Random random = new Random(14);
    int f4096m5000 = config(2, 2, 0);
    byte[] two = concat(frames(bytes(random, 100), 4096), frames(new byte[0], 4096));
    write(dir, "two-messages-one-read", chunkInput(f4096m5000, 0, two));
    byte[] three =
        concat(frames(bytes(random, 300), 4096), frames(bytes(random, 1), 4096), frames(bytes(random, 4000), 4096));
    write(dir, "three-messages-many-reads",
        chunkInput(f4096m5000, 0, three, 1, 2, 3, 4, 5, 100, 305, 306, 310, 311, 1000, 4000, three.length - 1));
    byte[] inFrames = frames(bytes(random, 700), 256);
    write(dir, "message-in-three-frames",
        chunkInput(config(0, 1, 0), 0, inFrames, 2, 4, 5, 260, 261, 262, 263, 520, inFrames.length - 3));
    write(dir, "reads-inside-every-header",
        chunkInput(config(0, 1, 0), 0, inFrames, 1, 2, 3, 4, 5, 261, 262, 263, 264, 265, 521, 522, 523, 524, 525));
    write(dir, "stop-after-first",
        chunkInput(f4096m5000, ChunkCodecFuzzTest.READS_STOP_AFTER_FIRST, three, 310));

    write(dir, "empty-frame", chunkInput(f4096m5000, 0, new byte[] {0, 0, 0, 0, 0}));
    write(dir, "negative-length", chunkInput(f4096m5000, 0, new byte[] {-1, -1, -1, -1, 0}));
    write(dir, "frame-over-limit", chunkInput(f4096m5000, 0, header(4097, 0)));
    write(dir, "unknown-flags", chunkInput(f4096m5000, 0, concat(header(5, 2), bytes(random, 4))));
    write(dir, "tiny-frame-with-more", chunkInput(f4096m5000, 0, concat(header(11, 1), bytes(random, 10))));
    write(dir, "message-over-limit", chunkInput(config(1, 1, 0), 0, frames(bytes(random, 1100), 300)));
    write(dir, "over-the-limit-before-admission",
        chunkInput(f4096m5000 | ChunkCodecFuzzTest.CONFIG_EARLY, 0,
            concat(frames(bytes(random, 600), 4096), frames(bytes(random, 601), 4096))));

    int large = config(3, 3, 0);
    byte[] twenty = frames(bytes(random, 20_000), 100_000);
    write(dir, "budget-refuses-this-connection",
        chunkInput(large | ChunkCodecFuzzTest.CONFIG_BUDGET, 0, twenty, 2000, 4000, 6000, 8000, 12_000, 16_000));
    byte[] five = frames(bytes(random, 5000), 100_000);
    write(dir, "budget-evicts-the-bystander",
        chunkInput(large | ChunkCodecFuzzTest.CONFIG_BUDGET | ChunkCodecFuzzTest.CONFIG_BYSTANDER, 0, five, 2100));
    // frames mode: headers only, chunks generated; a 150 KB message in two frames, then a cut one
    byte[] specs = concat(spec(1, 100_000), spec(0, 50_000), spec(0x40, 70_000));
    write(dir, "frames-mode-large-message",
        chunkInput(large | ChunkCodecFuzzTest.CONFIG_FRAMES, 0, specs, 10, 70_000, 65_541, 131_077, 150_010, 180_000));
  }

  // ---- MessageDecodeFuzzTest ----

  static void writeDecodeSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    MessageDecodeFuzzTest.End peer = new MessageDecodeFuzzTest.End();
    try {
      writeDecodeSeeds(dir, peer);
    } finally {
      peer.close();
    }
  }

  private static void writeDecodeSeeds(Path dir, MessageDecodeFuzzTest.End peer) throws IOException {
    Map<Integer, String> names = KryoSetup.describe(MessageDecodeFuzzTest.REGISTRY);
    write(dir, "hello", encode(peer, new Message.Hello(List.copyOf(names.keySet()), List.copyOf(names.values()))));
    Object[] records = {
      new MessageDecodeFuzzTest.Point(1, -2),
      new MessageDecodeFuzzTest.Route(
          "r", List.of(new MessageDecodeFuzzTest.Point(3, 4)), new HashMap<>(Map.of("a", List.of(1, 2)))),
      nest(5),
      new MessageDecodeFuzzTest.Shape("any", new long[] {1, -1}, Set.of("x", "y"), MessageDecodeFuzzTest.Color.GREEN),
      null
    };
    write(dir, "call-records", encode(peer, new Message.Call(5, 0, "move", records, false)));
    MessageDecodeFuzzTest.Inventory inventory = new MessageDecodeFuzzTest.Inventory();
    inventory.count = 3;
    inventory.owner = "owner";
    inventory.items = new ArrayList<>(List.of("a", 7, new MessageDecodeFuzzTest.Point(0, 0)));
    inventory.index = new HashMap<>(Map.of("k", 1L));
    Object[] registered = {
      inventory,
      new ArrayDeque<>(List.of("a", 1)),
      new MessageDecodeFuzzTest.Point[] {new MessageDecodeFuzzTest.Point(1, 1), null},
      new float[] {1.5f, -0f},
      MessageDecodeFuzzTest.Color.BLUE
    };
    write(dir, "call-registered-types", encode(peer, new Message.Call(6, 0, "stock", registered, true)));
    List<Object> builtins = new ArrayList<>();
    builtins.add(new HashSet<>(List.of("a", "b", "c")));
    builtins.add(new LinkedHashSet<>(List.of(1, 2)));
    builtins.add(new HashMap<>(Map.of("one", 1, "two", 2)));
    builtins.add(new LinkedHashMap<>(Map.of(1, "one")));
    builtins.add(new TreeMap<>(Map.of(3, "c", 1, "a")));
    builtins.add(new LinkedList<>(List.of('c', (short) 2, (byte) 1)));
    builtins.add(List.of(1, 2, 3));
    builtins.add(Set.of("s"));
    builtins.add(Map.of(1, 2, 3, 4));
    builtins.add(Arrays.asList(1.0, 2.0f));
    builtins.add(Collections.emptyList());
    builtins.add(Collections.singletonList(true));
    builtins.add(Collections.unmodifiableList(new ArrayList<>(List.of(1L))));
    builtins.add(Collections.unmodifiableSet(new HashSet<>(List.of(9))));
    builtins.add(Collections.unmodifiableMap(new HashMap<>(Map.of("m", 1))));
    builtins.add(new UUID(1, 2));
    builtins.add(Instant.ofEpochSecond(1_700_000_000, 5));
    builtins.add(Duration.ofMillis(-1500));
    builtins.add(new int[] {1, -1});
    builtins.add(new long[] {Long.MAX_VALUE});
    builtins.add(new double[] {0.5});
    builtins.add(new boolean[] {true, false});
    builtins.add(new String[] {"a", null});
    builtins.add(new Object[] {1, "b"});
    builtins.add(new byte[] {1, 2, 3});
    write(dir, "answer-builtins", encode(peer, new Message.Answer(9, builtins)));
    write(dir, "answer-cache", encode(peer, new Message.Answer(1, new MessageDecodeFuzzTest.Scoreboard())));
    write(dir, "answer-reference", encode(peer, new Message.Answer(2, new MessageDecodeFuzzTest.Root())));
    // the receiver's own root (id 0) sent back to it: ANSWER, request 3, reference, kind MINE, id 0
    write(dir, "answer-own-root", new byte[] {Wire.ANSWER, 3, KryoSetup.REFERENCE_ID + 2, Wire.REF_MINE, 0});
    write(dir, "error", encode(peer, new Message.Error(4, new Message.ErrorInfo(
        "REMOTE_FAILURE", MessageDecodeFuzzTest.OutOfStock.class.getName(), "none left", null))));
    write(dir, "release", encode(peer, new Message.Release(new int[] {1, 300}, new int[] {2, 1})));
    write(dir, "cancel", encode(peer, new Message.Cancel(7)));
    write(dir, "goodbye", encode(peer, new Message.Goodbye("bye")));
    write(dir, "ping", encode(peer, new Message.Ping(-1)));
    write(dir, "cache-update", encode(peer, new Message.CacheUpdate(1, "added", new Object[] {"z"})));
    write(dir, "cache-state", encode(peer, new Message.CacheState(1, List.of("a", "b"))));
    write(dir, "update-failed", encode(peer, new Message.UpdateFailed(1, "scroed", "NO_SUCH_METHOD", "no such method")));
    // hash flooding: strings that share one hash code ("Aa" and "BB" do)
    Set<String> colliding = new HashSet<>();
    for (int i = 0; i < 64; i++) {
      StringBuilder b = new StringBuilder();
      for (int bit = 0; bit < 6; bit++) {
        b.append((i >> bit & 1) == 0 ? "Aa" : "BB");
      }
      colliding.add(b.toString());
    }
    write(dir, "hash-collisions", encode(peer, new Message.Answer(10, colliding)));
    write(dir, "nest-too-deep", encodeDeep(new Message.Answer(11, nest(Wire.DEFAULT_MAX_DEPTH + 6))));
    // an ArrayList (id 18, 20 on the wire) claiming 2^31 - 1 elements
    write(dir, "list-claims-too-much", new byte[] {Wire.ANSWER, 12, 20, -1, -1, -1, -1, 7});
    byte[] call = encode(peer, new Message.Call(13, 0, "move", records, false));
    write(dir, "call-truncated", Arrays.copyOf(call, call.length / 2));
  }

  private static MessageDecodeFuzzTest.Nest nest(int depth) {
    MessageDecodeFuzzTest.Nest n = null;
    for (int i = 0; i < depth; i++) {
      n = new MessageDecodeFuzzTest.Nest(n);
    }
    return n;
  }

  /** The body the peer's encoder makes of {@code message}. */
  private static byte[] encode(MessageDecodeFuzzTest.End peer, Message message) {
    ByteBuf buf = peer.connection.encode(message);
    try {
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  /** Encodes with a Kryo that nests deeper than any receiver allows (no references). */
  private static byte[] encodeDeep(Message message) {
    PbKryo kryo = TestAccess.encoder(MessageDecodeFuzzTest.REGISTRY);
    kryo.setMaxDepth(1000);
    Output out = new Output(4096, Wire.DEFAULT_MAX_MESSAGE);
    WireCodec.encode(message, kryo, out);
    return out.toBytes();
  }

  // ---- io.pbj.cred.LoginFuzzTest: one call a line, its first character the operation ----

  static void writeLoginSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    String nonce = "fyko+d2lbbFgONRv9qkxdawL";
    login(dir, "wrong-password", "Nalice", "W", "T");
    login(dir, "right-password", "Nalice", "V");
    login(dir, "raw-messages", "Sn,,n=bob,r=" + nonce, "Fc=biws,r=" + nonce + "XYZ,p=AAAA", "T");
    login(dir, "escaped-name", "Nal=2Cice=3D", "W", "T");
    login(dir, "bad-escape", "Sn,,n=a=2,r=" + nonce);
    login(dir, "channel-binding", "Sp=tls-unique,,n=a,r=" + nonce, "Sy,,n=a,r=" + nonce);
    login(dir, "authorization-identity", "Sn,a=admin,n=a,r=" + nonce);
    login(dir, "bad-client-final", "Nbob", "Fc=eSws,r=" + nonce + ",p=AAAA", "Nbob",
        "Fc=biws,r=" + nonce + ",p=not base64!", "Nbob", "Fc=biws,p=AAAA,r=x", "T");
    login(dir, "lockout", "Nu", "W", "T", "Nu", "W", "T", "Nu", "W", "T", "Nu", "W", "T", "Nu", "W", "T", "Nu", "W");
    login(dir, "not-waiting-for-the-answer", "Nu", "W", "Nu", "W", "T");
    login(dir, "anonymous-then-release", "A", "Nalice", "R", "Nalice", "W", "T", "A");
    login(dir, "nulls", "n", "f", "Nalice", "f");
    login(dir, "finish-without-start", "Fc=biws,r=x,p=AA==");
    login(dir, "abandoned-challenges", "Na", "Nb", "Nc", "Nd", "Ne", "Nf");
    login(dir, "throttle-window", "Na", "W", "T", "Z", "Na", "W", "T", "Na", "V");
    login(dir, "long-name", "N" + "a".repeat(257), "N" + "a".repeat(256), "W");
    login(dir, "control-character", "Na\u0001b", "Na\u0085b", "N ", "N");
    login(dir, "long-message", "S" + "n,,n=a,r=" + "x".repeat(4100));
  }

  private static void login(Path dir, String name, String... calls) throws IOException {
    StringBuilder text = new StringBuilder();
    for (String call : calls) {
      text.append(call).append('\n');
    }
    Files.writeString(dir.resolve(name), text, StandardCharsets.UTF_8);
  }

  // ---- HandshakeFuzzTest ----

  static void writeHandshakeSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<Integer, String> ours = HandshakeFuzzTest.OURS;
    write(dir, "hello-ours", hello(ours));
    Map<Integer, String> more = new TreeMap<>(ours);
    more.put(102, "com.example.Extra");
    more.put(5000, "com.example.Far");
    write(dir, "hello-with-more-types", hello(more));
    write(dir, "hello-builtins-only", hello(KryoSetup.describe(PbRegistry.defaults())));
    Map<Integer, String> other = new TreeMap<>(ours);
    other.put(100, "com.example.Other");
    other.put(11, "java.lang.Object");
    write(dir, "hello-two-ids-disagree", hello(other));
    // a null class name, a duplicate id, an empty HELLO, a negative count
    write(dir, "hello-null-name", new byte[] {Wire.HELLO, 1, 100, 0});
    byte[] point = HandshakeFuzzTest.Point.class.getName().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream dup = new ByteArrayOutputStream();
    dup.writeBytes(new byte[] {Wire.HELLO, 2, 100, (byte) (point.length + 1)});
    dup.writeBytes(point);
    dup.writeBytes(new byte[] {100, 2, 'x'});
    write(dir, "hello-duplicate-id", dup.toByteArray());
    write(dir, "hello-empty", new byte[] {Wire.HELLO, 0});
    write(dir, "hello-negative-count", new byte[] {Wire.HELLO, -1, -1, -1, -1, 15});
    byte[] full = hello(ours);
    write(dir, "hello-truncated", Arrays.copyOf(full, full.length - 3));
    write(dir, "hello-trailing-bytes", concat(full, new byte[] {1, 2, 3}));
    // over the 64 KiB limit before login: one class name of 70,000 bytes
    byte[] longName = new byte[70_000];
    Arrays.fill(longName, (byte) 'a');
    ByteArrayOutputStream big = new ByteArrayOutputStream();
    big.writeBytes(new byte[] {Wire.HELLO, 1, 100});
    writeVarint(big, longName.length + 1);
    big.writeBytes(longName);
    write(dir, "hello-over-the-limit-before-login", big.toByteArray());
    // under that limit but over MessageCodec.INLINE_MAX, so decoded off the event loop; the class
    // name claims more bytes than the message has
    write(dir, "hello-decoded-off-the-event-loop", Arrays.copyOf(big.toByteArray(), 40_000));
    write(dir, "goodbye", body(PbRegistry.defaults(), new Message.Goodbye("the server is full")));
    write(dir, "goodbye-null-reason", new byte[] {Wire.GOODBYE, 0});
    write(dir, "ping", body(PbRegistry.defaults(), new Message.Ping(42)));
    write(dir, "call-before-hello", body(PbRegistry.defaults(), new Message.Call(1, 0, "echo", new Object[] {"x"}, false)));
    write(dir, "empty", new byte[0]);
    write(dir, "unknown-type", new byte[] {99});
  }

  private static byte[] hello(Map<Integer, String> names) {
    return body(PbRegistry.defaults(), new Message.Hello(List.copyOf(names.keySet()), List.copyOf(names.values())));
  }

  private static byte[] body(PbRegistry registry, Message message) {
    return TestAccess.body(registry, message);
  }

  private static void writeVarint(ByteArrayOutputStream out, int value) {
    while ((value & ~0x7F) != 0) {
      out.write((value & 0x7F) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  /** A ChunkCodecFuzzTest input: config, reads byte, cuts (at stream positions), stream. */
  static byte[] chunkInput(int config, int readsFlags, byte[] stream, int... positions) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(config);
    out.write(positions.length | readsFlags);
    int generated = (config & ChunkCodecFuzzTest.CONFIG_FRAMES) != 0
        ? ChunkCodecFuzzTest.generate(stream).length : stream.length;
    for (int p : positions) {
      // the target scales a cut c to c * (length + 1) >>> 16: the smallest c that lands on p
      int c = (int) ((((long) p << 16) + generated) / (generated + 1));
      while ((int) ((long) c * (generated + 1) >>> 16) < p) {
        c++;
      }
      out.write(c >>> 8);
      out.write(c);
    }
    out.writeBytes(stream);
    return out.toByteArray();
  }

  /** A message on the wire: frames of at most {@code maxFrame} bytes, each with its header. */
  static byte[] frames(byte[] message, int maxFrame) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int chunk = maxFrame - 1;
    int from = 0;
    do {
      int n = Math.min(chunk, message.length - from);
      boolean more = from + n < message.length;
      out.writeBytes(header(n + 1, more ? Wire.FLAG_MORE : 0));
      out.write(message, from, n);
      from += n;
    } while (from < message.length);
    return out.toByteArray();
  }

  static byte[] header(int length, int flags) {
    return new byte[] {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, (byte) flags};
  }

  /** A frames-mode spec: flags, then a 3-byte length. */
  static byte[] spec(int flags, int length) {
    return new byte[] {(byte) flags, (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
  }

  static byte[] bytes(Random random, int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  // ---- ValueCodecFuzzTest ----

  /** Values of the fuzz registry as {@link ValueCodec} encodes them, and a few broken ones. */
  private static void writeValueSeeds(Path dir) throws IOException {
    Files.createDirectories(dir);
    ValueCodec codec = ValueCodecFuzzTest.CODEC;
    write(dir, "point", codec.encode(new MessageDecodeFuzzTest.Point(1, -2)));
    byte[] route =
        codec.encode(
            new MessageDecodeFuzzTest.Route(
                "r",
                List.of(new MessageDecodeFuzzTest.Point(3, 4)),
                new HashMap<>(Map.of("a", List.of(1, 2)))));
    write(dir, "route", route);
    write(dir, "route-truncated", Arrays.copyOf(route, route.length - 2));
    write(dir, "route-trailing", Arrays.copyOf(route, route.length + 1));
    write(dir, "nest", codec.encode(nest(5)));
    write(
        dir,
        "shape",
        codec.encode(
            new MessageDecodeFuzzTest.Shape(
                List.of("any", 1), new long[] {1, -1}, new LinkedHashSet<>(List.of("x", "y")),
                MessageDecodeFuzzTest.Color.GREEN)));
    MessageDecodeFuzzTest.Inventory inventory = new MessageDecodeFuzzTest.Inventory();
    inventory.count = 3;
    inventory.owner = "owner";
    inventory.items = new ArrayList<>(List.of("a", 7, new MessageDecodeFuzzTest.Point(0, 0)));
    inventory.index = new HashMap<>(Map.of("k", 1L));
    write(dir, "inventory", codec.encode(inventory));
    write(dir, "deque", codec.encode(new ArrayDeque<>(List.of("a", 1))));
    write(
        dir,
        "array",
        codec.encode(
            new MessageDecodeFuzzTest.Point[] {new MessageDecodeFuzzTest.Point(1, 1), null}));
    write(dir, "builtins", codec.encode(List.of(
        new TreeMap<>(Map.of(3, "c", 1, "a")), Set.of("s"), new UUID(1, 2),
        Instant.ofEpochSecond(1_700_000_000, 5), Duration.ofMillis(-1500), new byte[] {1, 2})));
    write(dir, "null", codec.encode(null));
    // the reference marker (id 10, written +2), kind YOURS, id 5: never a value
    write(dir, "reference", new byte[] {KryoSetup.REFERENCE_ID + 2, Wire.REF_YOURS, 5});
  }

  static void write(Path dir, String name, byte[] data) throws IOException {
    Files.write(dir.resolve(name), data);
  }
}
