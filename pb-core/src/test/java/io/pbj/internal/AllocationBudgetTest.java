package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbServer;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The allocation budget: what a message may decode to, measured by what the JVM allocates. */
class AllocationBudgetTest {
  record Person(String name, String email, int age) {}

  record Point(int x, int y) {}

  record State(String identity, long version, byte[] state) {}

  /** A plain class: Kryo's field serializer, which reads a String field in Kryo's own format. */
  static final class Note {
    String text;
  }

  private static final PbRegistry REGISTRY =
      PbRegistry.builder()
          .register(Person.class, Point.class, State.class)
          .register(Note.class, Point[].class, float[].class)
          .build();

  private static final KryoSetup.ReferenceCodec NO_REFERENCES =
      new KryoSetup.ReferenceCodec() {
        @Override
        public void write(Kryo k, Output o, Object v) {
          throw new UnsupportedOperationException();
        }

        @Override
        public Object read(Kryo k, Input i) {
          throw new UnsupportedOperationException();
        }
      };

  private static byte[] call(Object value) {
    return TestAccess.body(REGISTRY, new Message.Call(1, 0, "put", new Object[] {value}, false));
  }

  private static Message decode(byte[] body, int expansion) {
    PbKryo kryo = KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    return WireCodec.decode(
        body, kryo, new DecodeContext(body.length, expansion), Wire.DEFAULT_MAX_DEPTH, 1 << 30);
  }

  private static long allocatedBy(Runnable r) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long id = Thread.currentThread().getId();
    long before = threads.getThreadAllocatedBytes(id);
    r.run();
    return threads.getThreadAllocatedBytes(id) - before;
  }

  @Test
  void aListOfEmptyMapsIsRefusedBeforeItAllocatesMoreThanItsBudget() {
    // one byte per map on the wire (the list names their class once), 52 bytes each on the heap
    byte[] body = call(TestAccess.repeatedList(new HashMap<>(), 1 << 20));
    decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION); // warm up: classes loaded, code compiled
    Message[] refused = new Message[1];
    long allocated =
        allocatedBy(() -> refused[0] = decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION));
    assertThat(refused[0]).isInstanceOf(Message.Undecodable.class);
    PbException e = ((Message.Undecodable) refused[0]).cause();
    assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(e)
        .hasMessageContaining("argument of call to 'put' was refused")
        .hasMessageContaining(
            "decodes to more than the allocation budget of "
                + TestAccess.allocationBudget(body.length) + " bytes (16 x its " + body.length
                + " bytes");
    long slack = 1 << 20; // the input, the message records, Kryo's own
    assertThat(allocated).isLessThan(TestAccess.allocationBudget(body.length) + slack);

    // without the budget the same bytes take more than three times as much
    long unbounded =
        allocatedBy(() -> assertThat(decode(body, 1000)).isInstanceOf(Message.Call.class));
    assertThat(unbounded).isGreaterThan(3 * TestAccess.allocationBudget(body.length));
  }

  @Test
  void elementsThatTakeNoBytesAreChargedTheirSlotsBeforeAnythingIsCreated() {
    // Kryo writes a collection of nulls as its length and one class id: a few bytes claiming
    // millions of slots, held back by the allocation budget instead of the bytes that remain.
    int n = 4_000_000;
    List<Object> nulls = TestAccess.repeatedList(null, n);
    for (Object value : List.of(nulls, TestAccess.unhashedSet(nulls))) {
      byte[] body = call(value);
      assertThat(body.length).isLessThan(32);
      decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION); // warm up
      Message[] refused = new Message[1];
      long allocated =
          allocatedBy(() -> refused[0] = decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION));
      assertThat(refused[0]).isInstanceOf(Message.Undecodable.class);
      PbException e = ((Message.Undecodable) refused[0]).cause();
      assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
      assertThat(e).hasMessageContaining("decodes to more than the allocation budget of "
          + TestAccess.allocationBudget(body.length) + " bytes");
      long slack = 1 << 20; // the input, the message records, Kryo's own
      assertThat(allocated).isLessThan(TestAccess.allocationBudget(body.length) + slack);
    }

    // As many as the budget holds decode, in as few bytes.
    byte[] probe = call(TestAccess.repeatedList(null, 1 << 18));
    int fits = (int) (TestAccess.allocationBudget(probe.length) / HeapSizes.REFERENCE) - 64;
    byte[] body = call(TestAccess.repeatedList(null, fits));
    assertThat(body).hasSameSizeAs(probe);
    Message m = decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION);
    assertThat(m).isInstanceOf(Message.Call.class);
    assertThat((List<?>) ((Message.Call) m).args()[0]).hasSize(fits).containsOnlyNulls();
  }

  @Test
  void honestValuesDecodeWithinTheDefaultBudget() {
    Random random = new Random(1);
    List<Person> people = new ArrayList<>();
    List<State> states = new ArrayList<>();
    List<Integer> smallIntegers = new ArrayList<>();
    Map<String, Person> byName = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      Person p = new Person("user" + i, "user" + i + "@example.com", 20 + i % 50);
      people.add(p);
      byName.put("key-" + i, p);
    }
    for (int i = 0; i < 150_000; i++) {
      smallIntegers.add(i % 128);
    }
    for (int i = 0; i < 2000; i++) {
      byte[] state = new byte[1024];
      random.nextBytes(state);
      states.add(new State("object-" + i, 1000L + i, state));
    }
    Map<String, Point> points = new HashMap<>();
    for (int i = 0; i < 50_000; i++) {
      points.put("p" + i, new Point(i, -i));
    }
    for (Object value : List.of(people, states, smallIntegers, byName, points)) {
      byte[] body = call(value);
      assertThat(body.length).isGreaterThan(1 << 17); // beyond the floor's help
      Message m = decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION);
      assertThat(m).isInstanceOf(Message.Call.class);
      Object decoded = ((Message.Call) m).args()[0];
      if (value == states) {
        List<?> got = (List<?>) decoded;
        assertThat(got).hasSize(states.size());
        for (int i = 0; i < states.size(); i++) {
          State want = states.get(i);
          State have = (State) got.get(i);
          assertThat(have.identity()).isEqualTo(want.identity());
          assertThat(have.state()).isEqualTo(want.state());
        }
      } else {
        assertThat(decoded).isEqualTo(value);
      }
    }
  }

  @Test
  void emptyStringsAndEmptyImmutableCollectionsCostNothing() {
    byte[] body =
        call(List.of("", List.of(), Set.of(), Map.of(), Collections.emptyList(), ""));
    PbKryo kryo = KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    DecodeContext context = new DecodeContext(body.length, Wire.DEFAULT_MAX_DECODE_EXPANSION);
    Message m = WireCodec.decode(body, kryo, context, Wire.DEFAULT_MAX_DEPTH, 1 << 20);
    List<?> decoded = (List<?>) ((Message.Call) m).args()[0];
    assertThat(decoded.get(0)).isSameAs(decoded.get(5));
    assertThat(decoded.get(1)).isSameAs(Collections.emptyList());
    assertThat(decoded.get(2)).isSameAs(Collections.emptySet());
    assertThat(decoded.get(3)).isSameAs(Collections.emptyMap());
    // the method name, the argument array, the outer list and its view: nothing for the elements
    assertThat(context.allocated())
        .isEqualTo(
            HeapSizes.string("put".length())
                + HeapSizes.array(1, HeapSizes.REFERENCE)
                + HeapSizes.UNMODIFIABLE_VIEW
                + HeapSizes.arrayList(6));
  }

  /** A CALL of 'put' whose one argument is an instance of {@code type}, its bytes {@code value}. */
  private static byte[] callWithRaw(Class<?> type, Output value) {
    Output out = new Output(64, -1);
    out.writeByte(Wire.CALL);
    out.writeVarInt(1, true);
    out.writeVarInt(Wire.ROOT_ID, true);
    out.writeBoolean(false);
    KryoSetup.writeString(out, "put");
    out.writeVarInt(1, true);
    PbKryo kryo = KryoSetup.create(REGISTRY, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES);
    out.writeVarInt(kryo.getRegistration(type).getId() + 2, true);
    out.writeBytes(value.toBytes());
    return out.toBytes();
  }

  private static void assertRefusedWithoutAllocating(byte[] body, String reason) {
    decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION); // warm up
    Message[] got = new Message[1];
    long allocated = allocatedBy(() -> got[0] = decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION));
    assertThat(got[0]).isInstanceOf(Message.Undecodable.class);
    assertThat(((Message.Undecodable) got[0]).cause()).hasMessageContaining(reason);
    assertThat(allocated).isLessThan(1 << 20);
  }

  @Test
  void aStringFieldClaimingAGigabyteIsRefusedBeforeItIsAllocated() {
    // Kryo's own string header: high bit set (not ASCII), then the character count + 1. Kryo
    // allocated the characters before reading them: 2 GiB for these 14 bytes (found by
    // MessageDecodeFuzzTest).
    Output text = new Output(16);
    text.writeVarIntFlag(true, (1 << 30) + 1, true);
    byte[] body = callWithRaw(Note.class, text);
    assertThat(body.length).isLessThan(20);

    assertRefusedWithoutAllocating(body, "string claims 1073741824 elements but only 0 bytes remain");
  }

  @Test
  void aRegisteredArrayClaimingAGigabyteIsRefusedBeforeItIsAllocated() {
    // Kryo's array serializers: the length + 1, then the elements; Kryo created the array first
    Output claim = new Output(16);
    claim.writeVarInt((1 << 30) + 1, true);

    assertRefusedWithoutAllocating(
        callWithRaw(Point[].class, claim), "Point[] claims 1073741824 elements but only");
    assertRefusedWithoutAllocating(
        callWithRaw(float[].class, claim), "float[] claims 1073741824 elements but only");
  }

  @Test
  void registeredArraysAndFieldStringsStillDecodeAsKryoWritesThem() {
    Note note = new Note();
    note.text = "caf\u00e9 au lait";
    Object[] args = {
      note, new Point[] {new Point(1, 2), null}, new float[] {1.5f, -0f}, new Point[0], null
    };
    byte[] body = TestAccess.body(REGISTRY, new Message.Call(1, 0, "put", args, false));
    Object[] got = ((Message.Call) decode(body, Wire.DEFAULT_MAX_DECODE_EXPANSION)).args();
    assertThat(((Note) got[0]).text).isEqualTo(note.text);
    assertThat((Point[]) got[1]).containsExactly(new Point(1, 2), null);
    assertThat((float[]) got[2]).containsExactly(1.5f, -0f);
    assertThat((Point[]) got[3]).isEmpty();
    assertThat(got[4]).isNull();
  }

  @Test
  void theExpansionIsSetOnceAndMustBePositive() {
    assertThatThrownBy(() -> PbServer.builder().maxDecodeExpansion(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxDecodeExpansion must be positive, got 0");
    assertThatThrownBy(() -> PbServer.builder().maxDecodeExpansion(8).maxDecodeExpansion(8))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxDecodeExpansion was already set");
  }
}
