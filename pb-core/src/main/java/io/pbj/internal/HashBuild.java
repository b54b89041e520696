package io.pbj.internal;

import com.esotericsoftware.kryo.kryo5.KryoException;
import com.esotericsoftware.kryo.kryo5.io.Input;
import java.util.AbstractCollection;
import java.util.AbstractMap;
import java.util.Arrays;
import java.util.Collection;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds hash-based containers (sets, maps) from decoded elements without letting a peer choose
 * how much work that takes.
 *
 * <p>A JDK hash table compares an element with {@code equals} against every element already in
 * it that has the same hash code; for keys that are not {@code Comparable} (lists, records,
 * sets) even a treeified bin scans them all. Elements chosen to share one hash code therefore
 * cost O(n<sup>2</sup>) {@code equals} calls, and more when each call walks a long element or
 * does lookups of its own. So the elements are first decoded into a staging area that records,
 * for each, its span on the wire (bytes) and its multiplier. Before anything is inserted, {@link
 * #check} charges the message's probe budget with:
 *
 * <ul>
 *   <li>hashing: the span of every element twice (once here, once by the container); a nested
 *       container recomputes its subtree's hash at every level, and this charge is what bounds
 *       that;
 *   <li>for each element, the {@code equals} calls its insertion may cost against every earlier
 *       element with the same hash code: its own span per call when both are flat (an {@code
 *       equals} of lists, records or strings walks at most the shorter one), otherwise the sum
 *       of both spans times both multipliers.
 * </ul>
 *
 * <p>The <b>multiplier</b> bounds how often an {@code equals} with a value may walk each of its
 * bytes: 1 for a value without hash containers (and for lists and records, the largest of their
 * parts'); for a hash container, one more than its largest group of elements sharing a hash code
 * (for a sorted map, the depth of its tree), times the largest multiplier of its elements, keys
 * or values. Comparing two sets looks up each element of one in the other: a hash and at most
 * one group's worth of comparisons, each bounded the same way one level down; so, by induction,
 * an {@code equals} of {@code x} and {@code y} costs at most {@code (span(x) + span(y)) * m(x) *
 * m(y)} (every pair of their nodes at the same depth is compared at most once per lookup).
 *
 * <p>So building every hash container of a message costs at most the probe budget, which is
 * linear in the message's bytes, whatever the peer sent. The {@code equals} and {@code hashCode}
 * of the application's own non-record classes are its own and are not metered.
 *
 * <p>Thread-safety: static methods; the staging objects belong to the decoding thread.
 */
final class HashBuild {
  private HashBuild() {}

  /** Multipliers stop growing here; a charge with it exceeds any budget. */
  static final long MAX_MULTIPLIER = 1L << 24;

  /**
   * Charges the work of inserting {@code keys[0..n)} into a hash container, in that order, and
   * refuses the message (a {@link DecodeContext.Refused}) if it exceeds the probe budget.
   *
   * @param spans the wire size of each key in bytes
   * @param multipliers each key's multiplier (1: flat)
   * @param what the container, for the refusal message
   * @return the largest number of keys sharing one hash code
   */
  static int check(
      DecodeContext c, Object[] keys, int[] spans, long[] multipliers, int n, String what) {
    long hashing = 0;
    for (int i = 0; i < n; i++) {
      hashing += spans[i];
    }
    c.probe(2 * hashing, what, n, 1);
    if (n < 2) {
      return n;
    }
    int[] hashes = new int[n];
    for (int i = 0; i < n; i++) {
      hashes[i] = keys[i] == null ? 0 : keys[i].hashCode();
    }
    int[] sorted = hashes.clone();
    Arrays.sort(sorted);
    boolean shared = false;
    for (int i = 1; i < n && !shared; i++) {
      shared = sorted[i] == sorted[i - 1];
    }
    if (!shared) {
      return 1; // every hash code is distinct: no equals call at all
    }
    // hash code in the high half, insertion index in the low half: groups in insertion order
    long[] order = new long[n];
    for (int i = 0; i < n; i++) {
      order[i] = ((long) hashes[i] << 32) | i;
    }
    Arrays.sort(order);
    int largest = 1;
    for (int from = 0; from < n; ) {
      int to = from + 1;
      while (to < n && (int) (order[to] >> 32) == (int) (order[from] >> 32)) {
        to++;
      }
      if (to - from > 1) {
        chargeGroup(c, order, from, to, spans, multipliers, n, what);
        largest = Math.max(largest, to - from);
      }
      from = to;
    }
    return largest;
  }

  private static void chargeGroup(
      DecodeContext c,
      long[] order,
      int from,
      int to,
      int[] spans,
      long[] multipliers,
      int n,
      String what) {
    long flatCount = 0; // earlier elements with multiplier 1, and their spans
    long flatSpans = 0;
    // earlier elements with a larger multiplier: the sums of m(j) and of span(j) * m(j)
    long nestedMultipliers = 0;
    long nestedWeightedSpans = 0;
    for (int k = from; k < to; k++) {
      int i = (int) order[k];
      long span = spans[i];
      long m = multipliers[i];
      // against j: flat pairs cost at most this span; others (span + span(j)) * m * m(j)
      long againstNested = add(times(span, nestedMultipliers), nestedWeightedSpans);
      long steps =
          m == 1
              ? add(times(span, flatCount), againstNested)
              : times(m, add(add(times(span, flatCount), flatSpans), againstNested));
      c.probe(steps, what, n, to - from);
      if (m == 1) {
        flatCount++;
        flatSpans += span;
      } else {
        nestedMultipliers = add(nestedMultipliers, m);
        nestedWeightedSpans = add(nestedWeightedSpans, times(span, m));
      }
    }
  }

  private static long times(long a, long b) {
    long high = Math.multiplyHigh(a, b);
    long low = a * b;
    return high != 0 || low < 0 ? Long.MAX_VALUE : low;
  }

  private static long add(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /**
   * The multiplier of a hash container whose largest group is {@code group} elements and whose
   * elements' largest multiplier is {@code children}.
   */
  static long multiplier(long group, long children) {
    return Math.min(MAX_MULTIPLIER, times(group + 1, children));
  }

  /** The depth of a balanced binary tree of {@code n} keys: a sorted map's lookup comparisons. */
  static int treeDepth(int n) {
    return 32 - Integer.numberOfLeadingZeros(n);
  }

  /**
   * Puts staged entries into {@code map} in wire order. A {@link TreeMap} whose keys are null or
   * not mutually comparable fails with a message saying so instead of a bare ClassCastException,
   * and a registered map type that cannot hold null (a {@code ConcurrentHashMap}) names the entry.
   */
  static void putAll(Map<Object, Object> map, Object[] keys, Object[] values, int n, String what) {
    for (int i = 0; i < n; i++) {
      try {
        map.put(keys[i], values[i]);
      } catch (ClassCastException | NullPointerException e) {
        if (e instanceof NullPointerException && !(map instanceof java.util.SortedMap)) {
          throw new KryoException(
              "entry " + i + " of a " + what + " has a null key or value, which it cannot hold");
        }
        throw new KryoException(
            "key " + i + " of a " + what + " ("
                + (keys[i] == null ? "null" : keys[i].getClass().getName())
                + ") cannot be ordered with the keys before it: the keys of a sorted map must be"
                + " non-null and mutually comparable");
      }
    }
  }

  /**
   * The elements of a collection as its serializer reads them, with each one's wire span and
   * multiplier. Kryo's {@code CollectionSerializer} adds each element right after reading it, so
   * they are those of the value read last.
   */
  static final class StagedElements extends AbstractCollection<Object> {
    private final DecodeContext context;
    private final Input input;
    final Object[] items;
    final int[] spans;
    final long[] multipliers;
    int size;

    StagedElements(DecodeContext context, Input input, int capacity) {
      this.context = context;
      this.input = input;
      this.items = new Object[capacity];
      this.spans = new int[capacity];
      this.multipliers = new long[capacity];
    }

    @Override
    public boolean add(Object element) {
      if (size == items.length) {
        throw new KryoException("a collection holds more elements than it claimed");
      }
      items[size] = element;
      if (element == null) {
        spans[size] = 1;
        multipliers[size] = 1;
      } else {
        spans[size] = Math.max(1, input.position() - context.lastStart);
        multipliers[size] = context.lastMultiplier;
      }
      size++;
      return true;
    }

    /**
     * Charges the probe budget for putting these elements in a hash container, and sets the
     * container's multiplier.
     */
    void check(String what) {
      int group = HashBuild.check(context, items, spans, multipliers, size, what);
      context.multiplier = multiplier(group, context.multiplier);
    }

    /** Adds the elements to {@code target}, a {@code what}, in wire order. */
    <C extends Collection<Object>> C into(C target, String what) {
      for (int i = 0; i < size; i++) {
        KryoSetup.addElement(target, items[i], i, what);
      }
      return target;
    }

    @Override
    public Iterator<Object> iterator() {
      return Arrays.asList(items).subList(0, size).iterator();
    }

    @Override
    public int size() {
      return size;
    }
  }

  /**
   * The entries of a map as its serializer reads them: Kryo's {@code MapSerializer} reads a key,
   * then its value, then puts them, so the key's span runs from the end of the previous entry to
   * the start of the value (the value read last). A key's multiplier is taken as the largest of
   * the map's keys and values read so far (an upper bound).
   */
  static final class StagedEntries extends AbstractMap<Object, Object> {
    private final DecodeContext context;
    private final Input input;
    final Object[] keys;
    final Object[] values;
    final int[] spans;
    final long[] multipliers;
    int size;
    private int entryEnd;

    StagedEntries(DecodeContext context, Input input, int capacity) {
      this.context = context;
      this.input = input;
      this.keys = new Object[capacity];
      this.values = new Object[capacity];
      this.spans = new int[capacity];
      this.multipliers = new long[capacity];
      this.entryEnd = input.position();
    }

    @Override
    public Object put(Object key, Object value) {
      if (size == keys.length) {
        throw new KryoException("a map holds more entries than it claimed");
      }
      keys[size] = key;
      values[size] = value;
      spans[size] = Math.max(1, context.lastStart - entryEnd);
      multipliers[size] = context.multiplier;
      entryEnd = input.position();
      size++;
      return null;
    }

    /**
     * Charges the probe budget for putting these keys in a hash container, and sets the map's
     * multiplier.
     */
    void check(String what) {
      int group = HashBuild.check(context, keys, spans, multipliers, size, what);
      context.multiplier = multiplier(group, context.multiplier);
    }

    /** Sets the multiplier of a sorted map: its lookups compare a tree's depth of keys. */
    void sorted() {
      context.multiplier = multiplier(treeDepth(size), context.multiplier);
    }

    /** Puts the entries into {@code target} in wire order. */
    <M extends Map<Object, Object>> M into(M target, String what) {
      HashBuild.putAll(target, keys, values, size, what);
      return target;
    }

    @Override
    public Set<Entry<Object, Object>> entrySet() {
      throw new UnsupportedOperationException("staging only");
    }

    @Override
    public int size() {
      return size;
    }
  }
}
