package io.pbj;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.function.Predicate;

/**
 * A class loader over the test's own class path that loads everything itself (child first, only
 * the JDK from its parent) and pretends some classes and resources are absent: a stand-in for an
 * application whose class path lacks or replaces an artifact, without building one.
 *
 * <p>Thread-safety: as {@link URLClassLoader}.
 */
final class HidingClassLoader extends URLClassLoader {
  private final Predicate<String> hiddenClass;
  private final String replacedResource;
  private final List<URL> replacement;

  /**
   * @param hiddenClass which binary class names to pretend are absent
   * @param replacedResource a resource name whose every copy is replaced by {@code replacement}
   *     (null: none)
   */
  HidingClassLoader(Predicate<String> hiddenClass, String replacedResource, List<URL> replacement) {
    super(testClassPath(), ClassLoader.getPlatformClassLoader());
    this.hiddenClass = hiddenClass;
    this.replacedResource = replacedResource;
    this.replacement = replacement;
  }

  @Override
  protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
    if (hiddenClass.test(name)) {
      throw new ClassNotFoundException(name + " (hidden by the test)");
    }
    synchronized (getClassLoadingLock(name)) {
      Class<?> c = findLoadedClass(name);
      if (c == null) {
        try {
          c = findClass(name);
        } catch (ClassNotFoundException e) {
          c = getParent().loadClass(name);
        }
      }
      if (resolve) {
        resolveClass(c);
      }
      return c;
    }
  }

  @Override
  public Enumeration<URL> getResources(String name) throws IOException {
    if (name.equals(replacedResource)) {
      return Collections.enumeration(replacement);
    }
    return super.getResources(name);
  }

  @Override
  public URL getResource(String name) {
    if (name.equals(replacedResource)) {
      return replacement.isEmpty() ? null : replacement.get(0);
    }
    return super.getResource(name);
  }

  /** Surefire's test class path (java.class.path may be only its booter jar). */
  static URL[] testClassPath() {
    String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    for (String entry : cp.split(File.pathSeparator)) {
      if (!entry.isEmpty()) {
        try {
          urls.add(new File(entry).toURI().toURL());
        } catch (MalformedURLException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return urls.toArray(URL[]::new);
  }
}
