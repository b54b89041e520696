package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * H2 is optional for MapDB users and MapDB may be excluded by MVStore users: a store built on the
 * backend whose library is absent fails in {@code build()} naming the artifact to add, creates no
 * file, and the other backend still works on the same class path. The absent library is
 * simulated by a class loader that hides its packages.
 */
class MissingBackendTest {
  @TempDir Path dir;

  @Test
  void mvStoreWithoutH2NamesTheH2ArtifactAndCreatesNothing() throws Throwable {
    try (HidingClassLoader noH2 = new HidingClassLoader(n -> n.startsWith("org.h2."), null, List.of())) {
      Path file = dir.resolve("s.mv");
      assertThatThrownBy(() -> build(noH2, "MVSTORE", file))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("SnapshotStoreBuilder.backend MVSTORE needs com.h2database:h2")
          .hasMessageContaining("or choose StoreBackend.MAPDB");
      assertThat(file).doesNotExist();
      // the default backend is unaffected by H2's absence
      close(build(noH2, "MAPDB", dir.resolve("s.db")));
    }
  }

  @Test
  void mapDbWithoutMapDbNamesTheMapDbArtifact() throws Throwable {
    try (HidingClassLoader noMapDb =
        new HidingClassLoader(n -> n.startsWith("org.mapdb."), null, List.of())) {
      Path file = dir.resolve("s.db");
      assertThatThrownBy(() -> build(noMapDb, "MAPDB", file))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("SnapshotStoreBuilder.backend MAPDB needs org.mapdb:mapdb")
          .hasMessageContaining("or choose StoreBackend.MVSTORE");
      assertThat(file).doesNotExist();
      close(build(noMapDb, "MVSTORE", dir.resolve("s.mv")));
      close(build(noMapDb, "MEMORY", null));
    }
  }

  @Test
  void withBothLibrariesTheIsolatedClassPathBuildsBoth() throws Throwable {
    // the control: isolation alone does not fail the check
    try (HidingClassLoader both = new HidingClassLoader(n -> false, null, List.of())) {
      close(build(both, "MAPDB", dir.resolve("a.db")));
      close(build(both, "MVSTORE", dir.resolve("a.mv")));
    }
    assertThat(Files.exists(dir.resolve("a.db"))).isTrue();
  }

  /** SnapshotStore.builder().backend(backend).path(file).build(), inside {@code loader}. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object build(ClassLoader loader, String backend, Path file) throws Throwable {
    try {
      Class<?> backends = Class.forName("io.pbj.store.StoreBackend", true, loader);
      Object b = Class.forName("io.pbj.store.SnapshotStore", true, loader).getMethod("builder").invoke(null);
      b.getClass().getMethod("backend", backends).invoke(b, Enum.valueOf((Class) backends, backend));
      if (file != null) {
        b.getClass().getMethod("path", Path.class).invoke(b, file);
      }
      return b.getClass().getMethod("build").invoke(b);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }

  private static void close(Object store) throws Exception {
    Method close = store.getClass().getMethod("close");
    close.setAccessible(true);
    close.invoke(store);
  }
}
