package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.kryo5.util.DefaultClassResolver;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.pbj.PbCodec;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.testing.PbCleanup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link HandshakeHandler} in the real pipeline ({@link Pipeline} on an {@link EmbeddedChannel}),
 * against a second real pipeline or a peer whose bytes the test writes. Completions run on a
 * queued executor the test runs by hand, so nothing completes on the event loop unseen.
 */
class HandshakeHandlerTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  record Point(int x, int y) {}

  record Other(String name) {}

  private static final byte[] PREAMBLE = {'P', 'B', 'J', 0x1A, 0, 1};

  private static final PbRegistry POINTS = PbRegistry.builder().register(Point.class, 100).build();

  private final QueuedExecutor executor = new QueuedExecutor();
  private final List<EmbeddedChannel> channels = new ArrayList<>();

  @AfterEach
  void closeChannels() {
    for (EmbeddedChannel c : channels) {
      c.finishAndReleaseAll();
    }
    executor.runAll();
  }

  /** One end: a channel with the real pipeline, and its connection. */
  private record End(EmbeddedChannel channel, Connection connection) {}

  private End end(PbRegistry registry) {
    return end(TestConfigs.config(registry, executor));
  }

  private End end(BrokerConfig config) {
    return end(config, Wire.MIN_PROTOCOL_VERSION, Wire.PROTOCOL_VERSION);
  }

  /** An end that claims protocol versions {@code min} to {@code max}. */
  private End end(PbRegistry registry, int min, int max) {
    return end(TestConfigs.config(registry, executor), min, max);
  }

  private End end(BrokerConfig config, int min, int max) {
    AtomicReference<Connection> created = new AtomicReference<>();
    EmbeddedChannel channel =
        new EmbeddedChannel(new Pipeline(config, null, created::set).protocolVersions(min, max));
    channels.add(channel);
    channel.runPendingTasks();
    return new End(channel, created.get());
  }

  /** Moves bytes both ways between two ends until neither has anything more to say. */
  private static void pump(EmbeddedChannel a, EmbeddedChannel b) {
    boolean moved;
    do {
      moved = moveAll(a, b) | moveAll(b, a);
    } while (moved);
  }

  private static boolean moveAll(EmbeddedChannel from, EmbeddedChannel to) {
    from.runPendingTasks();
    boolean moved = false;
    for (Object m; (m = from.readOutbound()) != null; ) {
      moved = true;
      if (to.isOpen()) {
        to.writeInbound(m);
      } else {
        ReferenceCountUtil.release(m);
      }
    }
    return moved;
  }

  /** Everything {@code channel} wrote so far, as one byte array. */
  private static byte[] written(EmbeddedChannel channel) {
    channel.runPendingTasks();
    ByteBuf all = Unpooled.buffer();
    try {
      for (ByteBuf m; (m = channel.readOutbound()) != null; ) {
        all.writeBytes(m);
        m.release();
      }
      return ByteBufUtil.getBytes(all);
    } finally {
      all.release();
    }
  }

  /** A peer that says the preamble, then sends {@code message} as its first, in one frame. */
  private void peerSays(EmbeddedChannel channel, Message message) {
    EmbeddedChannel peerChannel = new EmbeddedChannel();
    channels.add(peerChannel);
    Connection encoder =
        new Connection(peerChannel, TestConfigs.config(PbRegistry.defaults(), Runnable::run));
    ByteBuf body = encoder.encode(message);
    ByteBuf bytes = Unpooled.buffer();
    bytes.writeBytes(PREAMBLE);
    bytes.writeInt(1 + body.readableBytes()).writeByte(0).writeBytes(body);
    body.release();
    channel.writeInbound(bytes);
  }

  private static PbException failure(CompletableFuture<?> future) {
    assertThat(future).isCompletedExceptionally();
    Throwable t = future.handle((v, e) -> e).join();
    assertThat(t).isInstanceOf(PbException.class);
    return (PbException) t;
  }

  @Test
  void sendsHelloWithItsRegistryRightAfterThePreamble() {
    End end = end(POINTS);

    byte[] out = written(end.channel());

    ByteBuf in = Unpooled.wrappedBuffer(out);
    byte[] preamble = new byte[Wire.PREAMBLE_LENGTH];
    in.readBytes(preamble);
    assertThat(preamble).isEqualTo(PREAMBLE);
    int length = in.readInt();
    assertThat(in.readByte()).as("flags").isZero();
    byte[] body = new byte[length - 1];
    in.readBytes(body);
    assertThat(in.isReadable()).as("nothing after the Hello").isFalse();
    Message hello = WireCodec.decode(body, new PbKryo(new DefaultClassResolver()), Wire.DEFAULT_MAX_DEPTH, Wire.DEFAULT_MAX_MESSAGE);
    assertThat(hello)
        .isEqualTo(KryoSetup.hello(POINTS, Wire.MIN_PROTOCOL_VERSION, Wire.PROTOCOL_VERSION));
    assertThat(((Message.Hello) hello).classNames()).contains(Point.class.getName());
    assertThat(((Message.Hello) hello).formats())
        .contains(PbCodec.of(POINTS).formatOf(Point.class));
  }

  @Test
  void matchingRegistriesRemoveTheHandlerAndCompleteReadyOnTheExecutor() {
    End a = end(POINTS);
    End b = end(POINTS.toBuilder().register(Other.class).build()); // more types on one side is fine

    pump(a.channel(), b.channel());

    assertThat(a.channel().pipeline().get("handshake")).isNull();
    assertThat(b.channel().pipeline().get("handshake")).isNull();
    assertThat(a.connection().ready()).as("completed on the executor, not the event loop").isNotDone();
    executor.runAll();
    assertThat(a.connection().ready()).isCompletedWithValue(a.connection());
    assertThat(b.connection().ready()).isCompletedWithValue(b.connection());
  }

  @Test
  void connectionWorksAfterTheHandshake() {
    End a = end(POINTS);
    End b = end(POINTS);
    pump(a.channel(), b.channel());
    executor.runAll();

    CompletableFuture<Void> pong = a.connection().ping();
    pump(a.channel(), b.channel());
    executor.runAll();

    assertThat(pong).isCompleted();
    assertThat(a.channel().isOpen()).isTrue();
  }

  @Test
  void registriesThatDisagreeFailWithRegistryMismatchNamingTheIdAndBothClasses() {
    End a = end(POINTS);
    End b = end(PbRegistry.builder().register(Other.class, 100).build());

    pump(a.channel(), b.channel());
    executor.runAll();

    PbException failure = failure(a.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.REGISTRY_MISMATCH);
    assertThat(failure)
        .hasMessageContaining(
            "id 100 is " + Point.class.getName() + " here but " + Other.class.getName() + " on the peer");
    assertThat(failure(b.connection().ready()))
        .hasMessageContaining(
            "id 100 is " + Other.class.getName() + " here but " + Point.class.getName() + " on the peer");
    assertThat(a.channel().isOpen()).isFalse();
    assertThat(b.channel().isOpen()).isFalse();
  }

  @Test
  void helloNamingAnotherClassForAnIdFailsTheConnection() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(end.channel(), new Message.Hello(List.of(100, 5000), List.of("com.example.Other", "x.Y")));
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.REGISTRY_MISMATCH);
    assertThat(failure)
        .hasMessageContaining("id 100 is " + Point.class.getName() + " here but com.example.Other on the peer")
        .hasMessageNotContaining("5000");
    assertThat(end.channel().isOpen()).isFalse();
  }

  @Test
  void firstMessageOtherThanHelloIsAProtocolError() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(end.channel(), new Message.Ping(1));
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(failure).hasMessageContaining("expected the registry handshake, got Ping");
    assertThat(end.channel().isOpen()).isFalse();
  }

  /**
   * The Hello of the default registry alone takes 984 bytes, so under a message limit of 512
   * every connection would fail at its first message. The builders refuse such a limit
   * ({@code HelloLimitsTest}); this is what the handler does should one get through.
   */
  @Test
  void helloLargerThanTheMessageLimitFailsTheConnectionWithLimitExceeded() {
    BrokerConfig small = TestConfigs.config(PbRegistry.defaults(), executor, 512, 512);

    End end = end(small);
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(failure).hasMessageContaining("does not fit the message limit of 512 bytes");
    assertThat(end.channel().isOpen()).isFalse();
  }

  // ---- protocol version negotiation (docs/COMPATIBILITY.md) ----

  @Test
  void bothSidesUseTheHighestVersionBothSpeak() {
    End a = end(POINTS, 1, 3);
    End b = end(POINTS, 2, 5);

    pump(a.channel(), b.channel());
    executor.runAll();

    assertThat(a.connection().ready()).isCompleted();
    assertThat(b.connection().ready()).isCompleted();
    assertThat(a.connection().peer().version()).isEqualTo(3);
    assertThat(b.connection().peer().version()).isEqualTo(3);
  }

  @Test
  void rangesThatDoNotOverlapFailBothSidesNamingBothRanges() {
    End a = end(POINTS, 1, 1);
    End b = end(POINTS, 2, 4);

    pump(a.channel(), b.channel());
    executor.runAll();

    PbException onA = failure(a.connection().ready());
    assertThat(onA.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(onA)
        .hasMessageContaining(
            "no protocol version in common: this side speaks versions 1 to 1, the peer 2 to 4");
    assertThat(failure(b.connection().ready()))
        .hasMessageContaining("this side speaks versions 2 to 4, the peer 1 to 1");
    assertThat(a.channel().isOpen()).isFalse();
    assertThat(b.channel().isOpen()).isFalse();
  }

  @Test
  void aHelloWithoutVersionsIsAPeerFromBeforeNegotiationSpeakingVersionOne() {
    End end = end(POINTS);
    written(end.channel());
    byte[] legacy = {Wire.HELLO, 1, 100, (byte) (Point.class.getName().length() + 1)};
    byte[] name = Point.class.getName().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ByteBuf bytes = Unpooled.buffer();
    bytes.writeBytes(PREAMBLE);
    bytes.writeInt(1 + legacy.length + name.length).writeByte(0).writeBytes(legacy).writeBytes(name);
    end.channel().writeInbound(bytes);
    executor.runAll();

    assertThat(end.connection().ready()).isCompleted();
    assertThat(end.connection().peer().version()).isEqualTo(1);
  }

  @Test
  void aHelloClaimingNoRangeIsAProtocolError() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(end.channel(), new Message.Hello(List.of(), List.of(), List.of(), 3, 2));
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(failure).hasMessageContaining("claims protocol versions 3 to 2, which is no range");
  }

  @Test
  void aHelloWithNegativeVersionsIsAProtocolErrorNotAnEscapingException() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(end.channel(), new Message.Hello(List.of(), List.of(), List.of(), -5, -1));
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(failure)
        .hasMessageContaining("claims protocol versions -5 to -1, which is no range");
    assertThat(end.channel().isOpen()).isFalse();
  }

  @Test
  void aHelloClaimingEveryVersionUpToIntMaxSettlesOnThisSidesHighest() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(end.channel(), KryoSetup.hello(POINTS, 1, Integer.MAX_VALUE));
    executor.runAll();

    assertThat(end.connection().ready()).isCompleted();
    assertThat(end.connection().peer().version()).isEqualTo(Wire.PROTOCOL_VERSION);
  }

  /**
   * One built-in id repeated with a one-character name costs the peer three bytes an entry; the
   * mismatch message must not grow by one sentence per entry (a 9 kB HELLO would make a message,
   * and a log line, of megabytes).
   */
  @Test
  void aHelloRepeatingAMismatchedBuiltInIdMakesABoundedError() {
    End end = end(POINTS);
    written(end.channel());
    int n = 3_000; // 9 kB, one chunk
    List<Integer> ids = java.util.Collections.nCopies(n, 100);
    List<String> names = java.util.Collections.nCopies(n, "x");

    peerSays(end.channel(), new Message.Hello(ids, names));
    for (int i = 0; i < 5 && !end.connection().ready().isDone(); i++) {
      executor.runAll(); // a large message is decoded off the loop
      end.channel().runPendingTasks();
    }

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.REGISTRY_MISMATCH);
    assertThat(failure.getMessage().length()).isLessThan(10_000);
    assertThat(failure).hasMessageContaining("(and " + (n - 10) + " more)");
  }

  @Test
  void aHelloNameLongerThanTheLimitIsRefusedBeforeTheHandshakeCompletes() {
    End end = end(POINTS);
    written(end.channel());

    peerSays(
        end.channel(),
        new Message.Hello(List.of(PbRegistry.FIRST_NAMED_ID), List.of("n".repeat(Wire.MAX_NAME + 1))));
    executor.runAll();

    PbException failure = failure(end.connection().ready());
    assertThat(failure.code()).isEqualTo(PbException.Code.PROTOCOL_ERROR);
    assertThat(failure).hasMessageContaining("longer than " + Wire.MAX_NAME);
    assertThat(end.channel().isOpen()).isFalse();
  }

  /**
   * A peer that does not check what it sends (one from before named registration, or a hostile
   * one) sends a value of a type this side does not register: the call fails naming the type
   * under the name the peer announced, and the connection goes on.
   */
  @Test
  void aValueOfATypeOnlyThePeerAnnouncedFailsThatCallNamingTheType() {
    PbRegistry named = PbRegistry.builder().register("geo.Point", Point.class).build();
    End end = end(PbRegistry.defaults());
    written(end.channel());
    peerSays(end.channel(), KryoSetup.hello(named, 1, 1));
    executor.runAll();
    assertThat(end.connection().ready()).isCompleted();

    EmbeddedChannel peerChannel = new EmbeddedChannel();
    channels.add(peerChannel);
    Connection unchecked = new Connection(peerChannel, TestConfigs.config(named, Runnable::run));
    ByteBuf body =
        unchecked.encode(new Message.Call(7, Wire.ROOT_ID, "take", new Object[] {new Point(1, 2)}, false));
    ByteBuf frame = Unpooled.buffer();
    frame.writeInt(1 + body.readableBytes()).writeByte(0).writeBytes(body);
    body.release();
    end.channel().writeInbound(frame);
    executor.runAll();
    end.channel().runPendingTasks();
    executor.runAll();

    Message answer = decodeWritten(end.channel());
    assertThat(answer).isInstanceOf(Message.Error.class);
    assertThat(((Message.Error) answer).error().code()).isEqualTo("UNSERIALIZABLE");
    assertThat(((Message.Error) answer).error().message())
        .contains("the peer sent a \"geo.Point\" (type id " + PbRegistry.idOf("geo.Point") + ")");
    assertThat(end.channel().isOpen()).isTrue();
  }

  /** The one message {@code channel} wrote since the last look, decoded. */
  private static Message decodeWritten(EmbeddedChannel channel) {
    ByteBuf in = Unpooled.wrappedBuffer(written(channel));
    int length = in.readInt();
    in.readByte();
    byte[] body = new byte[length - 1];
    in.readBytes(body);
    return WireCodec.decode(
        body, new PbKryo(new DefaultClassResolver()), Wire.DEFAULT_MAX_DEPTH, Wire.DEFAULT_MAX_MESSAGE);
  }
}
