package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.common.reflect.ClassPath;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Member;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The public API of every library module (this module sees them all): no public or protected
 * signature of an API package exposes a type of an {@code internal} package, nor a Netty, Kryo,
 * MapDB, H2 or Guava type. Internal packages may hold public types, which the API packages use;
 * this test is what keeps them out of users' hands.
 */
class PublicApiTest {
  private static final List<String> API_PACKAGES =
      List.of("io.pbj", "io.pbj.cred", "io.pbj.store", "io.pbj.publish", "io.pbj.testing");

  private static final List<String> FORBIDDEN_PREFIXES =
      List.of(
          "io.netty.",
          "com.esotericsoftware.",
          "org.mapdb.",
          "org.h2.",
          "com.google.common.",
          "kotlin.",
          "org.eclipse.collections.");

  @Test
  void apiPackagesAreFound() throws Exception {
    assertThat(apiClasses())
        .extracting(Class::getName)
        .contains(
            "io.pbj.PbServer",
            "io.pbj.cred.Portal",
            "io.pbj.store.SnapshotStore",
            "io.pbj.publish.PublishedClient",
            "io.pbj.PbException$Code",
            "io.pbj.testing.PbCleanup");
  }

  @Test
  void noPublicSignatureExposesAnInternalOrThirdPartyType() throws Exception {
    Set<String> problems = new TreeSet<>();
    for (Class<?> c : apiClasses()) {
      check(c, "extends", c.getGenericSuperclass(), problems);
      for (Type i : c.getGenericInterfaces()) {
        check(c, "implements", i, problems);
      }
      for (TypeVariable<?> v : c.getTypeParameters()) {
        for (Type bound : v.getBounds()) {
          check(c, "type parameter " + v.getName(), bound, problems);
        }
      }
      for (Field f : c.getDeclaredFields()) {
        if (visible(f)) {
          check(c, "field " + f.getName(), f.getGenericType(), problems);
        }
      }
      for (Constructor<?> k : c.getDeclaredConstructors()) {
        if (visible(k)) {
          for (Type p : k.getGenericParameterTypes()) {
            check(c, "constructor", p, problems);
          }
          for (Type e : k.getGenericExceptionTypes()) {
            check(c, "constructor throws", e, problems);
          }
        }
      }
      for (Method m : c.getDeclaredMethods()) {
        if (visible(m) && !m.isSynthetic() && !m.isBridge()) {
          check(c, m.getName() + " returns", m.getGenericReturnType(), problems);
          for (Type p : m.getGenericParameterTypes()) {
            check(c, m.getName() + " parameter", p, problems);
          }
          for (Type e : m.getGenericExceptionTypes()) {
            check(c, m.getName() + " throws", e, problems);
          }
        }
      }
    }
    assertThat(problems).as("public signatures exposing internal or third-party types").isEmpty();
  }

  private static boolean visible(Member m) {
    int mod = m.getModifiers();
    return Modifier.isPublic(mod) || Modifier.isProtected(mod);
  }

  /** Every public class of the API packages, nested public classes included. */
  private static List<Class<?>> apiClasses() throws Exception {
    List<Class<?>> out = new ArrayList<>();
    ClassPath path = ClassPath.from(PublicApiTest.class.getClassLoader());
    for (String pkg : API_PACKAGES) {
      for (ClassPath.ClassInfo info : path.getTopLevelClasses(pkg)) {
        if (info.getName().endsWith("Test") || info.getName().endsWith("package-info")) {
          continue;
        }
        Class<?> c = info.load();
        if (isMainClass(c) && Modifier.isPublic(c.getModifiers())) {
          addWithNested(c, out);
        }
      }
    }
    return out;
  }

  /** Tests share the packages: only classes from a library's main jar or classes folder count. */
  private static boolean isMainClass(Class<?> c) {
    String where = String.valueOf(c.getProtectionDomain().getCodeSource().getLocation());
    return !where.contains("test-classes") && !where.contains("-tests.jar");
  }

  private static void addWithNested(Class<?> c, List<Class<?>> out) {
    out.add(c);
    for (Class<?> nested : c.getDeclaredClasses()) {
      if (Modifier.isPublic(nested.getModifiers())) {
        addWithNested(nested, out);
      }
    }
  }

  private static void check(Class<?> owner, String where, Type type, Set<String> problems) {
    check(owner, where, type, problems, new HashSet<>());
  }

  private static void check(
      Class<?> owner, String where, Type type, Set<String> problems, Set<Type> seen) {
    if (type == null || !seen.add(type)) {
      return;
    }
    if (type instanceof Class<?> c) {
      while (c.isArray()) {
        c = c.getComponentType();
      }
      String name = c.getName();
      boolean internal = name.contains(".internal.");
      boolean thirdParty = FORBIDDEN_PREFIXES.stream().anyMatch(name::startsWith);
      if (internal || thirdParty) {
        problems.add(owner.getName() + " " + where + ": " + name);
      }
    } else if (type instanceof ParameterizedType p) {
      check(owner, where, p.getRawType(), problems, seen);
      for (Type arg : p.getActualTypeArguments()) {
        check(owner, where, arg, problems, seen);
      }
    } else if (type instanceof WildcardType w) {
      for (Type b : w.getUpperBounds()) {
        check(owner, where, b, problems, seen);
      }
      for (Type b : w.getLowerBounds()) {
        check(owner, where, b, problems, seen);
      }
    } else if (type instanceof GenericArrayType a) {
      check(owner, where, a.getGenericComponentType(), problems, seen);
    } else if (type instanceof TypeVariable<?> v) {
      for (Type b : v.getBounds()) {
        check(owner, where, b, problems, seen);
      }
    }
  }
}
