package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.esotericsoftware.kryo.kryo5.Kryo;
import com.esotericsoftware.kryo.kryo5.io.Input;
import com.esotericsoftware.kryo.kryo5.io.Output;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/** Building hash-based containers from the wire within the message's probe budget. */
class HashBuildTest {
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

  private static Message roundTrip(PbRegistry registry, Object value) {
    byte[] body =
        TestAccess.body(registry, new Message.Call(1, 0, "put", new Object[] {value}, false));
    return WireCodec.decode(
        body,
        KryoSetup.create(registry, Wire.DEFAULT_MAX_DEPTH, NO_REFERENCES),
        Wire.DEFAULT_MAX_DEPTH,
        Wire.DEFAULT_MAX_MESSAGE);
  }

  private static Object decoded(PbRegistry registry, Object value) {
    Message m = roundTrip(registry, value);
    if (m instanceof Message.Undecodable bad) {
      throw bad.cause();
    }
    return ((Message.Call) m).args()[0];
  }

  private static PbException refusal(PbRegistry registry, Object value) {
    Message m = roundTrip(registry, value);
    assertThat(m).isInstanceOf(Message.Undecodable.class);
    return ((Message.Undecodable) m).cause();
  }

  /** Lists [a, K - 31a], all sharing one hash code. */
  private static List<Object> collidingLists(int from, int n) {
    List<Object> lists = new ArrayList<>();
    for (int a = from; a < from + n; a++) {
      lists.add(new ArrayList<>(List.of(a, 1_000_000 - 31 * a)));
    }
    return lists;
  }

  @Test
  void nestedSetsOfCollidingSetsAreRefusedBeforeTheirEqualsWalkEachOther() {
    // every level: sets of two colliding elements, all sharing one hash code; equals between two
    // such sets recurses into lookups among colliding elements, level after level
    List<Object> level = collidingLists(0, 1 << 12);
    while (level.size() > 1) {
      List<Object> next = new ArrayList<>();
      for (int i = 0; i < level.size(); i += 2) {
        next.add(TestAccess.unhashedSet(List.of(level.get(i), level.get(i + 1))));
      }
      level = next;
    }
    PbException e = refusal(PbRegistry.defaults(), TestAccess.unhashedSet(List.of(level.get(0))));
    assertThat(e.code()).isEqualTo(PbException.Code.LIMIT_EXCEEDED);
    assertThat(e).hasMessageContaining("hash flooding").hasMessageContaining("probe budget");
  }

  /** A record with a set component. */
  record Holder(String name, Set<Object> items) {}

  /** A plain registered class with a map field (Kryo's field serializer). */
  static final class Bag {
    Map<Object, Object> byKey;
  }

  @Test
  void setsAndMapsInsideRecordsAndRegisteredClassesAreBoundedToo() {
    PbRegistry registry = PbRegistry.builder().register(Holder.class, Bag.class).build();
    List<Object> colliding = collidingLists(0, 20_000);
    assertThat(refusal(registry, new Holder("h", TestAccess.unhashedSet(colliding))))
        .hasMessageContaining("hash flooding: a HashSet of 20000 elements");
    Bag bag = new Bag();
    bag.byKey = TestAccess.unhashedMap(colliding, colliding);
    assertThat(refusal(registry, bag)).hasMessageContaining("hash flooding: a HashMap of 20000");
  }

  @Test
  void honestSetsOfSetsWithCollidingHashCodesAreAccepted() {
    // a set's hash code is the sum of its elements': {1, 4} and {2, 3} collide, and so on
    Set<Set<Integer>> pairs = new HashSet<>();
    for (int a = 0; a < 100; a++) {
      for (int b = a + 1; b < 100; b++) {
        pairs.add(new HashSet<>(List.of(a, b)));
      }
    }
    assertThat(decoded(PbRegistry.defaults(), pairs)).isEqualTo(pairs);
  }

  @Test
  void mapsAndImmutableSetsWithCollidingKeysAreRefused() {
    List<Object> keys = collidingLists(0, 20_000);
    List<Object> values = new ArrayList<>(keys);
    assertThat(refusal(PbRegistry.defaults(), TestAccess.unhashedMap(keys, values)))
        .hasMessageContaining("hash flooding: a HashMap of 20000 elements has 20000 elements");
    // an immutable set, as Set.copyOf sends it, built here without hashing
    Set<Object> small = Set.of(keys.get(0), keys.get(1), keys.get(2));
    assertThat(decoded(PbRegistry.defaults(), small)).isEqualTo(small);
  }

  @Test
  void registeredHashMapTypesAreBoundedToo() {
    PbRegistry registry = PbRegistry.builder().register(ConcurrentHashMap.class).build();
    Map<Object, Object> honest = new ConcurrentHashMap<>(Map.of("a", 1, "b", 2));
    assertThat(decoded(registry, honest)).isEqualTo(honest).isInstanceOf(ConcurrentHashMap.class);
  }

  @Test
  void sortedMapKeysThatCannotBeComparedFailTheValueClearly() {
    Map<Object, Object> mixed = new LinkedHashMap<>();
    mixed.put(1, "int");
    mixed.put("two", "string");
    TreeMap<Object, Object> fake = new TreeMap<>((x, y) -> x.toString().compareTo(y.toString()));
    fake.putAll(mixed);
    PbException e = refusal(PbRegistry.defaults(), fake);
    assertThat(e.code()).isEqualTo(PbException.Code.UNSERIALIZABLE);
    assertThat(e)
        .hasMessageContaining("TreeMap")
        .hasMessageContaining("cannot be ordered with the keys before it");
  }
}
