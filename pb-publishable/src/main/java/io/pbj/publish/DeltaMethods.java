package io.pbj.publish;

import io.pbj.Remote;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * The delta methods of a {@link RemotePublished} class: its public {@link Remote @Remote} methods
 * by remote name, found once per class. A delta names one and carries its arguments.
 *
 * <p>Thread-safety: stateless; the per-class tables are immutable and cached in a {@link
 * ClassValue}.
 */
final class DeltaMethods {
  private static final ClassValue<Map<String, Method>> TABLES = new ClassValue<>() {
    @Override
    protected Map<String, Method> computeValue(Class<?> type) {
      Map<String, Method> table = new HashMap<>();
      for (Method m : type.getMethods()) {
        Remote remote = m.getAnnotation(Remote.class);
        if (remote == null || Modifier.isStatic(m.getModifiers())
            || m.getDeclaringClass() == RemotePublished.class) {
          continue;
        }
        table.put(remote.value().isEmpty() ? m.getName() : remote.value(), m);
      }
      return Map.copyOf(table);
    }
  };

  private DeltaMethods() {}

  /**
   * Runs delta {@code method} with {@code args} on {@code target}.
   *
   * @throws IllegalArgumentException naming the class and the method if there is no such delta
   *     method or the arguments do not fit it; the method's own exception otherwise
   */
  static void apply(RemotePublished target, String method, Object[] args) {
    Method m = TABLES.get(target.getClass()).get(method);
    if (m == null) {
      throw new IllegalArgumentException(target.getClass().getName() + " has no public @Remote"
          + " method '" + method + "' to apply a delta with");
    }
    Object[] a = args == null ? new Object[0] : args;
    if (m.getParameterCount() != a.length) {
      throw new IllegalArgumentException("delta " + target.getClass().getSimpleName() + "."
          + method + " takes " + m.getParameterCount() + " arguments, the server sent "
          + a.length);
    }
    try {
      m.invoke(target, a);
    } catch (IllegalAccessException e) {
      throw new IllegalArgumentException("delta method " + m + " is not accessible: make its"
          + " class public", e);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }
}
