package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.Remote;
import io.pbj.RemoteReference;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@link Remote @Remote} methods of a class, found once per class and cached. Only these
 * are reachable from the wire.
 *
 * <p>Thread-safety: thread-safe (immutable tables in a {@link ClassValue}).
 */
final class RemoteMethods {
  private RemoteMethods() {}

  /**
   * One callable method.
   *
   * @param direct whether it may run on the event loop ({@link Remote#direct()})
   */
  record Target(Method method, Class<?>[] parameters, String qualifiedName, boolean direct) {}

  /** The methods of a class, or the configuration error that makes it unusable. */
  private record Table(Map<String, Target> methods, RuntimeException error) {}

  private static final ClassValue<Table> TABLES =
      new ClassValue<>() {
        @Override
        protected Table computeValue(Class<?> type) {
          try {
            return new Table(scan(type), null);
          } catch (RuntimeException e) {
            return new Table(Map.of(), e);
          }
        }
      };

  /**
   * Whether the method named {@code name} on {@code type} is a {@link Remote#direct()} one; false
   * if there is no such method (the call then fails in the ordinary way).
   */
  static boolean isDirect(Class<?> type, String name) {
    Table table = TABLES.get(type);
    Target t = table.error() == null ? table.methods().get(name) : null;
    return t != null && t.direct();
  }

  /** The method named {@code name} on {@code type}; fails with NO_SUCH_METHOD naming both. */
  static Target find(Class<?> type, String name) {
    Table table = TABLES.get(type);
    if (table.error() != null) {
      throw table.error();
    }
    Target t = table.methods().get(name);
    if (t == null) {
      throw new PbException(
          PbException.Code.NO_SUCH_METHOD,
          type.getName() + " has no remote method '" + name + "' (only @Remote methods can be"
              + " called)");
    }
    return t;
  }

  private static Map<String, Target> scan(Class<?> type) {
    Map<String, Target> methods = new HashMap<>();
    for (Method m : type.getMethods()) {
      if (Modifier.isStatic(m.getModifiers()) || !isRemote(type, m)) {
        continue;
      }
      Remote remote = findAnnotation(type, m);
      String name = remote.value().isEmpty() ? m.getName() : remote.value();
      String qualified = type.getSimpleName() + "." + m.getName();
      if (methods.containsKey(name)) {
        throw new IllegalStateException(
            qualified + ": more than one @Remote method is named '" + name
                + "'; remote names must be unique per class");
      }
      m.trySetAccessible();
      methods.put(name, new Target(m, m.getParameterTypes(), qualified, remote.direct()));
    }
    return Map.copyOf(methods);
  }

  private static boolean isRemote(Class<?> type, Method m) {
    return findAnnotation(type, m) != null;
  }

  /** The annotation on {@code m} or on a method it overrides, in a superclass or interface. */
  private static Remote findAnnotation(Class<?> type, Method m) {
    Remote r = m.getAnnotation(Remote.class);
    if (r != null) {
      return r;
    }
    for (Class<?> c = type; c != null; c = c.getSuperclass()) {
      r = annotationIn(c, m);
      if (r != null) {
        return r;
      }
      for (Class<?> i : c.getInterfaces()) {
        r = annotationIn(i, m);
        if (r != null) {
          return r;
        }
      }
    }
    return null;
  }

  private static Remote annotationIn(Class<?> c, Method m) {
    try {
      return c.getDeclaredMethod(m.getName(), m.getParameterTypes()).getAnnotation(Remote.class);
    } catch (NoSuchMethodException e) {
      return null;
    }
  }

  /**
   * Invokes the method with {@code args}, adapting remote references to the parameter's
   * interface where needed; returns the result or throws what the method threw.
   */
  static Object invoke(Target target, Object receiver, Object[] args) throws Throwable {
    Class<?>[] params = target.parameters();
    if (params.length != args.length) {
      throw new PbException(
          PbException.Code.BAD_ARGUMENTS,
          target.qualifiedName() + " takes " + params.length + " argument"
              + (params.length == 1 ? "" : "s") + ", got " + args.length);
    }
    for (int i = 0; i < params.length; i++) {
      args[i] = adapt(target, i, params[i], args[i]);
    }
    try {
      return target.method().invoke(receiver, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    } catch (IllegalAccessException e) {
      throw new PbException(
          PbException.Code.NO_SUCH_METHOD, target.qualifiedName() + " is not accessible", e);
    }
  }

  private static Object adapt(Target target, int index, Class<?> param, Object arg) {
    if (arg == null) {
      if (param.isPrimitive()) {
        throw new PbException(
            PbException.Code.BAD_ARGUMENTS,
            target.qualifiedName() + " argument " + index + " is a " + param.getName()
                + " and cannot be null");
      }
      return null;
    }
    Class<?> boxed = Reflection.box(param);
    if (boxed.isInstance(arg)) {
      return arg;
    }
    if (arg instanceof RemoteReference ref && param.isInterface()) {
      return ref.as(param);
    }
    throw new PbException(
        PbException.Code.BAD_ARGUMENTS,
        target.qualifiedName() + " argument " + index + " must be a " + param.getName()
            + ", got a " + arg.getClass().getName());
  }
}
