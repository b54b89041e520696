package io.pbj.internal;

import io.pbj.PbRegistry;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The format fingerprint of a value type ({@link io.pbj.PbCodec#formatOf}): a text that
 * describes the type's shape as a registry sees it, hashed with SHA-256. A type registered by
 * stable name is described by that name instead of its id and class name, so its fingerprint
 * survives moving the class; the HELLO carries these fingerprints (see {@link HandshakeHandler}). docs/PROTOCOL.md
 * ("Value codec") gives the algorithm; this class is its reference, and a change to the text it
 * builds changes every fingerprint (a golden test holds one).
 *
 * <p>Thread-safety: stateless.
 */
final class ValueFormat {
  private ValueFormat() {}

  /** The first line of every description: names this algorithm. */
  static final String HEADER = "pbj-value-format 1";

  /** Built-in types whose shape is fixed: they are fingerprinted by name alone. */
  private static final Set<Class<?>> SCALARS =
      Set.of(
          String.class,
          Integer.class,
          Long.class,
          Boolean.class,
          Byte.class,
          Short.class,
          Character.class,
          Float.class,
          Double.class,
          int[].class,
          long[].class,
          double[].class,
          boolean[].class,
          String[].class,
          UUID.class,
          Instant.class,
          Duration.class);

  /** The fingerprint of {@link #describe}: see docs/PROTOCOL.md. */
  static int fingerprint(PbRegistry registry, Class<?> type) {
    byte[] hash = sha256(describe(registry, type).getBytes(StandardCharsets.UTF_8));
    int v =
        ((hash[0] & 0xff) << 24) | ((hash[1] & 0xff) << 16) | ((hash[2] & 0xff) << 8)
            | (hash[3] & 0xff);
    v &= 0x7fffffff;
    return v == 0 ? 1 : v;
  }

  /**
   * The text that describes {@code type}: the header, then one block per registered value type
   * reachable from it, the type itself first, then the others in the order they are first named
   * (a queue, so cycles end).
   */
  static String describe(PbRegistry registry, Class<?> type) {
    Class<?> top = Reflection.box(type);
    if (top == byte[].class) {
      throw new IllegalArgumentException(
          "byte[] has no shape to fingerprint: what the bytes mean is the application's own"
              + " format, so it must version them itself");
    }
    StringBuilder text = new StringBuilder(HEADER).append('\n');
    if (SCALARS.contains(top)) {
      text.append("builtin ").append(top.getName()).append('\n');
      return text.toString();
    }
    Map<Class<?>, Integer> ids = new HashMap<>();
    Map<Class<?>, String> named = new HashMap<>();
    registry.valueTypes().forEach(
        (id, c) -> {
          ids.put(c, id);
          if (registry.isNamed(id)) {
            named.put(c, registry.names().get(id));
          }
        });
    if (!ids.containsKey(top)) {
      boolean builtin = KryoSetup.BUILTINS.contains(top);
      throw new IllegalArgumentException(
          builtin
              ? top.getName() + " is a built-in container: its fingerprint could not see the"
                  + " types of its elements; wrap it in a registered record"
              : top.getName() + " is not registered in this registry; register it with"
                  + " PbRegistry.Builder.register");
    }
    Deque<Class<?>> queue = new ArrayDeque<>();
    Set<Class<?>> seen = new HashSet<>();
    queue.add(top);
    seen.add(top);
    while (!queue.isEmpty()) {
      Class<?> c = queue.poll();
      if (named.containsKey(c)) {
        // by its stable name alone: the Java class may move or be renamed
        text.append("named ").append(named.get(c)).append('\n');
      } else {
        text.append("type ").append(ids.get(c)).append(' ').append(c.getName()).append('\n');
      }
      Namer namer =
          t -> {
            if (ids.containsKey(t) && seen.add(t)) {
              queue.add(t);
            }
            return named.get(t);
          };
      body(c, text, namer);
      text.append("end\n");
    }
    return text.toString();
  }

  /**
   * Sees each class a description names, so registered ones get their own block; answers the
   * stable name it is registered under, or null.
   */
  private interface Namer {
    String named(Class<?> c);
  }

  private static void body(Class<?> c, StringBuilder text, Namer namer) {
    if (c.isRecord()) {
      text.append("record\n");
      for (RecordComponent rc : c.getRecordComponents()) {
        text.append("component ").append(rc.getName()).append(' ')
            .append(typeText(rc.getGenericType(), namer)).append('\n');
      }
    } else if (c.isEnum()) {
      text.append("enum\n");
      for (Object constant : c.getEnumConstants()) {
        text.append("constant ").append(((Enum<?>) constant).name()).append('\n');
      }
    } else if (c.isArray()) {
      text.append("array ").append(typeText(c.getComponentType(), namer)).append('\n');
    } else if (Collection.class.isAssignableFrom(c)) {
      text.append("collection\n");
    } else if (Map.class.isAssignableFrom(c)) {
      text.append("map\n");
    } else {
      text.append("class\n");
      List<Field> fields = new ArrayList<>();
      for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
        for (Field f : k.getDeclaredFields()) {
          int m = f.getModifiers();
          if (!Modifier.isStatic(m) && !Modifier.isTransient(m) && !f.isSynthetic()) {
            fields.add(f);
          }
        }
      }
      fields.sort(
          Comparator.comparing(Field::getName)
              .thenComparing(f -> f.getDeclaringClass().getName()));
      for (Field f : fields) {
        text.append("field ").append(f.getName()).append(' ')
            .append(typeText(f.getGenericType(), namer)).append('\n');
      }
    }
  }

  /** A declared type as text: class names, type arguments in angle brackets, arrays as []. */
  private static String typeText(Type t, Namer namer) {
    if (t instanceof Class<?> c) {
      if (c.isArray()) {
        return typeText(c.getComponentType(), namer) + "[]";
      }
      String name = namer.named(c);
      return name != null ? "named:" + name : c.getName();
    }
    if (t instanceof ParameterizedType p) {
      StringBuilder s = new StringBuilder(typeText(p.getRawType(), namer)).append('<');
      Type[] args = p.getActualTypeArguments();
      for (int i = 0; i < args.length; i++) {
        s.append(i == 0 ? "" : ",").append(typeText(args[i], namer));
      }
      return s.append('>').toString();
    }
    if (t instanceof GenericArrayType g) {
      return typeText(g.getGenericComponentType(), namer) + "[]";
    }
    if (t instanceof WildcardType w) {
      if (w.getLowerBounds().length > 0) {
        return "? super " + typeText(w.getLowerBounds()[0], namer);
      }
      Type[] upper = w.getUpperBounds();
      return upper.length == 0 || upper[0] == Object.class
          ? "?"
          : "? extends " + typeText(upper[0], namer);
    }
    if (t instanceof TypeVariable<?> v) {
      return v.getName(); // bounds left out: a bound that names the type itself never ends
    }
    return t.getTypeName();
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
