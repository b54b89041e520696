package io.pbj.internal;

import io.pbj.Cacheable;
import io.pbj.Referenceable;
import io.pbj.RemoteCache;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;

/**
 * What the objects the decoder creates cost on the heap, as the allocation budget ({@link
 * DecodeContext#allocate}) charges them: the layout of a 64-bit HotSpot JVM with compressed
 * references (12-byte object headers, 4-byte references, 16-byte array headers, sizes rounded up
 * to 8 bytes). Boxed values that the JDK caches ({@code Integer.valueOf(5)}) and the shared empty
 * collections cost nothing. With uncompressed references (heaps over 32 GiB) reference-heavy
 * values take up to twice as much, which such heaps can afford.
 *
 * <p>Thread-safety: stateless (the per-class table is a {@link ClassValue}).
 */
final class HeapSizes {
  private HeapSizes() {}

  static final int HEADER = 12;
  static final int REFERENCE = 4;
  static final int ARRAY_HEADER = 16;

  static long align(long bytes) {
    return (bytes + 7) & ~7L;
  }

  static long array(long length, int elementBytes) {
    return align(ARRAY_HEADER + length * elementBytes);
  }

  /** A String of {@code utf8Bytes} bytes: its storage never exceeds its UTF-8 length. */
  static long string(int utf8Bytes) {
    return utf8Bytes == 0 ? 0 : 24 + array(utf8Bytes, 1);
  }

  static long arrayList(int n) {
    return 24 + (n == 0 ? 0 : array(n, REFERENCE));
  }

  static long linkedList(int n) {
    return 32 + 24L * n;
  }

  /** A HashMap sized for {@code n} entries (with {@code linked}: a LinkedHashMap). */
  static long hashMap(int n, boolean linked) {
    // the table is the next power of two at or above the capacity the decoder asks for
    long table =
        n == 0 ? 0 : array(Integer.highestOneBit(KryoSetup.hashCapacity(n) - 1) << 1, REFERENCE);
    return (linked ? 56 : 48) + table + (linked ? 40L : 32L) * n;
  }

  /** A HashSet (or LinkedHashSet) of {@code n} elements: a map behind a small wrapper. */
  static long hashSet(int n, boolean linked) {
    return 16 + hashMap(n, linked);
  }

  /** The staging arrays of a set of {@code n} elements ({@link HashBuild.StagedElements}). */
  static long stagedElements(int n) {
    return array(n, REFERENCE) + array(n, 4) + array(n, 8);
  }

  static long treeMap(int n) {
    return 48 + 40L * n;
  }

  /** The unmodifiable view around an immutable list, set or map as decoded. */
  static final int UNMODIFIABLE_VIEW = 32;

  /**
   * The shallow size of a value read by one of Kryo's serializers, as the decoder created it; 0
   * for what the serializers charge themselves (strings, arrays, collections, maps), for
   * references (the connection's objects and proxies, bounded by maxReferences) and for cached
   * boxes.
   */
  static long shallow(Object value) {
    if (value == null) {
      return 0;
    }
    Class<?> type = value.getClass();
    if (type == Integer.class) {
      int v = (Integer) value;
      return v >= -128 && v <= 127 ? 0 : 16;
    }
    if (type == Long.class) {
      long v = (Long) value;
      return v >= -128 && v <= 127 ? 0 : 24;
    }
    if (type == Character.class) {
      return (Character) value <= 127 ? 0 : 16;
    }
    if (type == Short.class) {
      short v = (Short) value;
      return v >= -128 && v <= 127 ? 0 : 16;
    }
    return SHALLOW.get(type);
  }

  private static final ClassValue<Long> SHALLOW =
      new ClassValue<>() {
        @Override
        protected Long computeValue(Class<?> type) {
          if (type == String.class
              || type.isArray()
              || Collection.class.isAssignableFrom(type)
              || Map.class.isAssignableFrom(type)
              || Referenceable.class.isAssignableFrom(type)
              || Cacheable.class.isAssignableFrom(type)
              || RemoteCache.class.isAssignableFrom(type)
              || type == RealRemoteReference.class
              || Proxy.isProxyClass(type)
              || type == Boolean.class
              || type == Byte.class) {
            return 0L; // charged by their serializers, references, or always cached
          }
          if (type == Float.class) {
            return 16L;
          }
          if (type == Double.class || type == Instant.class || type == Duration.class) {
            return 24L;
          }
          if (type == UUID.class) {
            return 32L;
          }
          long bytes = HEADER;
          for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
              if (!Modifier.isStatic(f.getModifiers())) {
                bytes += fieldBytes(f.getType());
              }
            }
          }
          return align(bytes);
        }
      };

  private static int fieldBytes(Class<?> type) {
    if (type == long.class || type == double.class) {
      return 8;
    }
    if (type == int.class || type == float.class) {
      return 4;
    }
    if (type == short.class || type == char.class) {
      return 2;
    }
    if (type == byte.class || type == boolean.class) {
      return 1;
    }
    return REFERENCE;
  }
}
