package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.RemoteCache;
import io.pbj.RemoteObserver;
import io.pbj.testing.PbCleanup;
import com.esotericsoftware.kryo.kryo5.io.Output;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link MessageCodec} on an {@link EmbeddedChannel}, with a real {@link Connection} on that
 * channel and its decoding Kryo wired as {@link Pipeline} wires them. The bytes come from a peer
 * connection's encoder, as they would on the wire.
 */
class MessageCodecTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  record Point(int x, int y) {}

  /** Registered on the peer only: this side cannot decode it. */
  record Secret(String value) {}

  /** A Cacheable whose state is its entries. */
  static final class Board implements Cacheable {
    final List<String> entries = List.of("first", "second");

    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      return new ArrayList<>(entries);
    }
  }

  /** The receiving side of {@link Board}. */
  public static final class BoardCache extends RemoteCache {
    final List<Object> states = new CopyOnWriteArrayList<>();

    @Override
    protected void setState(Object state) {
      states.add(state);
    }
  }

  /** A class with a generic field: Kryo's field serializer reads it with the field's type arguments. */
  static final class Bag {
    List<Object> items;
  }

  /** A record with a map: Kryo's record serializer reads it without type arguments. */
  record Tagged(Map<String, List<Integer>> tags) {}

  private static final PbRegistry REGISTRY =
      PbRegistry.builder()
          .register(Point.class)
          .registerCache(Board.class, BoardCache.class)
          .register(Bag.class, Tagged.class)
          .register(java.util.ArrayDeque.class, java.util.concurrent.ConcurrentHashMap.class)
          .build();
  private static final PbRegistry PEER_REGISTRY = REGISTRY.toBuilder().register(Secret.class).build();

  private final QueuedExecutor executor = new QueuedExecutor();
  private final EmbeddedChannel channel = new EmbeddedChannel();
  private final Connection connection =
      new Connection(channel, TestConfigs.config(REGISTRY, executor));
  private final EmbeddedChannel peerChannel = new EmbeddedChannel();
  private final Connection peer =
      new Connection(peerChannel, TestConfigs.config(PEER_REGISTRY, executor));
  private final List<ByteBuf> handedIn = new ArrayList<>();

  MessageCodecTest() {
    channel
        .pipeline()
        .addLast(
            "codec",
            new MessageCodec(
                KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, connection.reader()),
                connection,
                connection.reader()));
  }

  @AfterEach
  void everyBufferHandedInIsReleased() {
    channel.finishAndReleaseAll();
    peerChannel.finishAndReleaseAll();
    for (ByteBuf b : handedIn) {
      assertThat(b.refCnt()).as("refCnt of a message body handed to the codec").isZero();
    }
  }

  /** The body of {@code message} as the peer sends it. */
  private ByteBuf fromPeer(Message message) {
    peer.send(message);
    ByteBuf body = peerChannel.readOutbound();
    handedIn.add(body);
    return body;
  }

  private ByteBuf raw(int... values) {
    ByteBuf body = Unpooled.buffer(values.length);
    for (int v : values) {
      body.writeByte(v);
    }
    handedIn.add(body);
    return body;
  }

  /** Sends {@code message} from the peer through the codec; returns what came out. */
  private MessageCodec.Inbound roundTrip(Message message) {
    channel.writeInbound(fromPeer(message));
    MessageCodec.Inbound inbound = channel.readInbound();
    assertThat(inbound).as("decoded %s", message).isNotNull();
    return inbound;
  }

  private <T extends Message> T decoded(Message message, Class<T> type) {
    MessageCodec.Inbound inbound = roundTrip(message);
    assertThat(inbound.inits()).isEmpty();
    assertThat(inbound.message()).isInstanceOf(type);
    return type.cast(inbound.message());
  }

  // ---- each message type to its record ----

  @Test
  void helloDecodesToHello() {
    Message.Hello hello = new Message.Hello(List.of(100, 101), List.of("a.B", "c.D"));

    assertThat(decoded(hello, Message.Hello.class)).isEqualTo(hello);
  }

  @Test
  void callDecodesToCallWithItsArguments() {
    Message.Call call =
        decoded(
            new Message.Call(5, 3, "move", new Object[] {new Point(1, 2), "x", 7, null}, false),
            Message.Call.class);

    assertThat(call.requestId()).isEqualTo(5);
    assertThat(call.target()).isEqualTo(3);
    assertThat(call.method()).isEqualTo("move");
    assertThat(call.oneWay()).isFalse();
    assertThat(call.args()).containsExactly(new Point(1, 2), "x", 7, null);
  }

  @Test
  void oneWayCallDecodesToAOneWayCall() {
    Message.Call call =
        decoded(new Message.Call(0, 0, "log", new Object[] {"line"}, true), Message.Call.class);

    assertThat(call.oneWay()).isTrue();
    assertThat(call.args()).containsExactly("line");
  }

  @Test
  void answerErrorAndTheSmallMessagesDecodeToThemselves() {
    List<Message> messages =
        List.of(
            new Message.Answer(9, List.of(new Point(3, 4), "y")),
            new Message.Answer(10, null),
            new Message.Error(
                11, new Message.ErrorInfo("REMOTE_FAILURE", "java.lang.IllegalStateException", "no", null)),
            new Message.Cancel(12),
            new Message.Goodbye("bye"),
            new Message.Ping(Long.MIN_VALUE),
            new Message.Pong(1L << 40),
            new Message.CacheState(13, List.of("a", "b")));
    for (Message m : messages) {
      assertThat(decoded(m, m.getClass())).isEqualTo(m);
    }
  }

  @Test
  void releaseDecodesToRelease() {
    Message.Release release =
        decoded(
            new Message.Release(new int[] {1, 2, Integer.MAX_VALUE}, new int[] {3, 1, Integer.MAX_VALUE}),
            Message.Release.class);

    assertThat(release.ids()).containsExactly(1, 2, Integer.MAX_VALUE);
    assertThat(release.receipts()).containsExactly(3, 1, Integer.MAX_VALUE);
  }

  @Test
  void cacheUpdateDecodesToCacheUpdate() {
    Message.CacheUpdate update =
        decoded(new Message.CacheUpdate(4, "added", new Object[] {"z"}), Message.CacheUpdate.class);

    assertThat(update.cacheId()).isEqualTo(4);
    assertThat(update.method()).isEqualTo("added");
    assertThat(update.args()).containsExactly("z");
  }

  @Test
  void everyDecodedMessageIsCounted() {
    long before = connection.counters().messagesReceived.sum();

    roundTrip(new Message.Ping(1));
    roundTrip(new Message.Pong(1));

    assertThat(connection.counters().messagesReceived.sum()).isEqualTo(before + 2);
  }

  @Test
  void newCacheTravelsWithItsInitialisationNotYetRun() {
    MessageCodec.Inbound inbound = roundTrip(new Message.Answer(1, new Board()));

    Message.Answer answer = (Message.Answer) inbound.message();
    assertThat(answer.result()).isInstanceOf(BoardCache.class);
    BoardCache cache = (BoardCache) answer.result();
    assertThat(cache.states).as("state not set on the event loop").isEmpty();
    assertThat(inbound.inits()).hasSize(1);

    ReferenceReader.initialise(inbound.inits());

    assertThat(cache.states).containsExactly(List.of("first", "second"));
    assertThat(connection.importedCount()).isEqualTo(1);
  }

  // ---- values that cannot be decoded ----

  @Test
  void undecodableCallArgumentBecomesUndecodableForThatRequest() {
    MessageCodec.Inbound inbound =
        roundTrip(new Message.Call(5, 0, "reveal", new Object[] {new Secret("s")}, false));

    assertThat(inbound.message()).isInstanceOf(Message.Undecodable.class);
    Message.Undecodable bad = (Message.Undecodable) inbound.message();
    assertThat(bad.type()).isEqualTo(Wire.CALL);
    assertThat(bad.requestId()).isEqualTo(5);
    assertThat(bad.cause().code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(bad.cause()).hasMessageContaining("argument of call to 'reveal'");
  }

  @Test
  void undecodableOneWayCallHasNoRequestToAnswer() {
    Message.Undecodable bad =
        decoded(
            new Message.Call(0, 0, "reveal", new Object[] {new Secret("s")}, true),
            Message.Undecodable.class);

    assertThat(bad.type()).isEqualTo(Wire.CALL);
    assertThat(bad.requestId()).isZero();
  }

  @Test
  void undecodableAnswerBecomesUndecodableForThatRequest() {
    Message.Undecodable bad =
        decoded(new Message.Answer(8, new Secret("s")), Message.Undecodable.class);

    assertThat(bad.type()).isEqualTo(Wire.ANSWER);
    assertThat(bad.requestId()).isEqualTo(8);
    assertThat(bad.cause()).hasMessageContaining("result");
  }

  @Test
  void messageAfterAnUndecodableOneDecodes() {
    decoded(new Message.Call(5, 0, "reveal", new Object[] {new Secret("s")}, false), Message.Undecodable.class);

    Message.Call call =
        decoded(new Message.Call(6, 0, "move", new Object[] {new Point(5, 6)}, false), Message.Call.class);

    assertThat(call.args()).containsExactly(new Point(5, 6));
  }

  /** The envelope of a call to the root's {@code put} with one argument, written by hand. */
  private static Output callOfPutWithOneArgument(int requestId) {
    Output out = new Output(256, -1);
    out.writeByte(Wire.CALL);
    out.writeVarInt(requestId, true);
    out.writeVarInt(Wire.ROOT_ID, true);
    out.writeBoolean(false);
    KryoSetup.writeString(out, "put");
    out.writeVarInt(1, true);
    return out;
  }

  @Test
  void mapSentWhereTheFieldDeclaresAListIsUndecodableNamingTheMapAndTheNextMessageDecodes() {
    // No Java sender puts a map into a List<Object> field; a hostile peer can. Kryo's map
    // serializer takes its key and value types from the field's one type argument and used to
    // fail with an ArrayIndexOutOfBoundsException (found by MessageDecodeFuzzTest).
    PbKryo writer = TestAccess.encoder(REGISTRY);
    Output out = callOfPutWithOneArgument(7);
    out.writeVarInt(writer.getRegistration(Bag.class).getId() + 2, true);
    writer.writeClassAndObject(out, new HashMap<>(Map.of("k", "v")));
    ByteBuf body = Unpooled.wrappedBuffer(out.toBytes());
    handedIn.add(body);

    channel.writeInbound(body);
    MessageCodec.Inbound inbound = channel.readInbound();

    assertThat(inbound.message()).isInstanceOf(Message.Undecodable.class);
    PbException cause = ((Message.Undecodable) inbound.message()).cause();
    assertThat(cause.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(cause)
        .hasMessageContaining("argument of call to 'put'")
        .hasMessageContaining(
            "a HashMap was sent where the receiving field's declared type has 1 type argument");
    for (Throwable t = cause; t != null; t = t.getCause()) {
      assertThat(t).isNotInstanceOf(IndexOutOfBoundsException.class);
    }
    Bag bag = new Bag();
    bag.items = new ArrayList<>(List.of("a", 1));
    Message.Call call =
        decoded(new Message.Call(8, 0, "put", new Object[] {bag}, false), Message.Call.class);
    assertThat(((Bag) call.args()[0]).items).containsExactly("a", 1);
  }

  @Test
  void aValidMessageDecodesTheSameAfterOneThatFailedInsideAGenericField() {
    // A Bag whose List<Object> field holds an element of an unknown class id: Kryo fails inside
    // the list with the field's type arguments pushed, and used to leave them on the connection's
    // Kryo, where the next message's map took them for its own (found by MessageDecodeFuzzTest).
    PbKryo writer = TestAccess.encoder(REGISTRY);
    Output out = callOfPutWithOneArgument(7);
    // a Bag, its items an ArrayList, as Kryo writes one of one String ("v") but with an unknown
    // class where the String's (3) would be
    out.writeVarInt(writer.getRegistration(Bag.class).getId() + 2, true);
    out.writeVarInt(writer.getRegistration(ArrayList.class).getId() + 2, true);
    out.writeByte(0x82); // one element, all of one class
    out.writeVarInt(1915 + 2, true);
    out.writeBytes(new byte[] {0, 2, 'v'});
    byte[] bad = out.toBytes();
    ByteBuf body = Unpooled.wrappedBuffer(bad);
    handedIn.add(body);
    channel.writeInbound(body);
    MessageCodec.Inbound inbound = channel.readInbound();
    assertThat(inbound.message()).isInstanceOf(Message.Undecodable.class);
    assertThat(((Message.Undecodable) inbound.message()).cause())
        .hasMessageContaining("unregistered class ID: 1915");

    Tagged tagged = new Tagged(new HashMap<>(Map.of("a", List.of(1, 2))));
    Message.Call call =
        decoded(new Message.Call(8, 0, "put", new Object[] {tagged}, false), Message.Call.class);

    assertThat(call.args()).containsExactly(tagged);
  }

  /** The body of a CALL of 'put' with {@code value}, its class id (one byte) replaced by {@code type}'s. */
  private ByteBuf callAs(Object value, Class<?> type) {
    PbKryo writer = TestAccess.encoder(REGISTRY);
    byte[] body = TestAccess.body(REGISTRY, new Message.Call(9, 0, "put", new Object[] {value}, false));
    int at = body.length - TestAccess.body(REGISTRY, new Message.Answer(0, value)).length + 2;
    assertThat(body[at]).isEqualTo((byte) (writer.getRegistration(value.getClass()).getId() + 2));
    body[at] = (byte) (writer.getRegistration(type).getId() + 2);
    ByteBuf buf = Unpooled.wrappedBuffer(body);
    handedIn.add(buf);
    return buf;
  }

  @Test
  void aNullInACollectionOrMapTypeThatCannotHoldNullIsRefusedNamingTheElement() {
    // An ArrayDeque or a ConcurrentHashMap with a null: no Java sender makes one, a peer can. The
    // JDK's NullPointerException used to be the whole message (found by MessageDecodeFuzzTest).
    channel.writeInbound(callAs(new ArrayList<>(java.util.Arrays.asList("a", null)), java.util.ArrayDeque.class));
    Message.Undecodable deque = (Message.Undecodable) ((MessageCodec.Inbound) channel.readInbound()).message();
    assertThat(deque.cause()).hasMessageContaining("element 1 of a ArrayDeque is null, which it cannot hold");

    Map<String, Object> withNull = new HashMap<>();
    withNull.put("k", null);
    channel.writeInbound(callAs(withNull, java.util.concurrent.ConcurrentHashMap.class));
    Message.Undecodable map = (Message.Undecodable) ((MessageCodec.Inbound) channel.readInbound()).message();
    assertThat(map.cause())
        .hasMessageContaining("entry 0 of a ConcurrentHashMap has a null key or value, which it cannot hold");
    for (Message.Undecodable bad : List.of(deque, map)) {
      for (Throwable t = bad.cause(); t != null; t = t.getCause()) {
        assertThat(t).isNotInstanceOf(NullPointerException.class);
      }
    }
  }

  // ---- broken envelopes ----

  @Test
  void unknownMessageTypeFailsWithAProtocolError() {
    ByteBuf body = raw(99, 1, 2);

    assertThatThrownBy(() -> channel.writeInbound(body))
        .isInstanceOfSatisfying(
            PbException.class, e -> assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR))
        .hasMessageContaining("unknown message type 99");
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void truncatedEnvelopeFailsWithAProtocolError() {
    // a CALL that ends after its request id
    ByteBuf body = raw(Wire.CALL, 5);

    assertThatThrownBy(() -> channel.writeInbound(body))
        .isInstanceOfSatisfying(
            PbException.class, e -> assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR))
        .hasMessageContaining("malformed message");
    assertThat((Object) channel.readInbound()).isNull();
  }

  @Test
  void emptyMessageFailsWithAProtocolError() {
    ByteBuf body = raw();

    assertThatThrownBy(() -> channel.writeInbound(body))
        .isInstanceOfSatisfying(
            PbException.class, e -> assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR));
  }

  @Test
  void releaseListLongerThanItsMessageFailsWithAProtocolError() {
    // claims 100 entries in a 3-byte message
    ByteBuf body = raw(Wire.RELEASE, 100, 1);

    assertThatThrownBy(() -> channel.writeInbound(body))
        .isInstanceOfSatisfying(
            PbException.class, e -> assertThat(e.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR))
        .hasMessageContaining("release list");
  }

  @Test
  void initialisationsOfAnUndecodableMessageTravelWithItAndTheNextMessageStartsClean() {
    MessageCodec.Inbound inbound =
        roundTrip(new Message.Call(5, 0, "both", new Object[] {new Board(), new Secret("s")}, false));

    assertThat(inbound.message()).isInstanceOf(Message.Undecodable.class);
    assertThat(inbound.inits()).hasSize(1);
    assertThat(roundTrip(new Message.Ping(2)).inits()).isEmpty();
  }
}
