package io.pbj.store.internal;

import io.pbj.store.StoreBackend;

/**
 * Checks that the library behind a chosen {@link StoreBackend} is on the class path. Both are
 * optional for a user who chose the other: H2 is an optional dependency of pb-cache-store, and
 * MapDB may be excluded by an MVStore user. Without this check a missing one would surface as a
 * {@code NoClassDefFoundError} from the middle of opening a store.
 *
 * <p>Thread-safety: stateless.
 */
public final class BackendClasses {
  private BackendClasses() {}

  /**
   * Throws {@link IllegalStateException} naming the missing artifact, unless {@code backend}'s
   * library can be loaded.
   */
  public static void require(StoreBackend backend) {
    String probe;
    String artifact;
    String other;
    switch (backend) {
      case MAPDB -> {
        probe = "org.mapdb.DBMaker";
        artifact = "org.mapdb:mapdb";
        other = "StoreBackend.MVSTORE (with com.h2database:h2)";
      }
      case MVSTORE -> {
        probe = "org.h2.mvstore.MVStore";
        artifact = "com.h2database:h2";
        other = "StoreBackend.MAPDB";
      }
      default -> {
        return;
      }
    }
    try {
      Class.forName(probe, false, BackendClasses.class.getClassLoader());
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalStateException(
          "SnapshotStoreBuilder.backend " + backend + " needs " + artifact + " on the class path ("
              + probe + " is missing): add " + artifact + " as a dependency (its version is in"
              + " io.pbj:pbj-bom), or choose " + other,
          e);
    }
  }
}
