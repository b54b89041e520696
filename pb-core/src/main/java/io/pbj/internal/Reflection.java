package io.pbj.internal;

import java.util.Map;

/** Small reflection helpers. Thread-safety: stateless. */
final class Reflection {
  private Reflection() {}

  private static final Map<Class<?>, Class<?>> BOXES =
      Map.of(
          int.class, Integer.class,
          long.class, Long.class,
          boolean.class, Boolean.class,
          byte.class, Byte.class,
          short.class, Short.class,
          char.class, Character.class,
          float.class, Float.class,
          double.class, Double.class,
          void.class, Void.class);

  static Class<?> box(Class<?> type) {
    return type.isPrimitive() ? BOXES.get(type) : type;
  }
}
