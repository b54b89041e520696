package io.pbj.store;

import java.nio.file.Path;

/** Child-JVM main: tries to open a store and prints the outcome on one line. */
final class LockProbe {
  private LockProbe() {}

  public static void main(String[] args) {
    try (SnapshotStore s =
        SnapshotStore.builder().backend(StoreBackend.valueOf(args[0])).path(Path.of(args[1])).build()) {
      System.out.println("opened " + s.size());
    } catch (StoreException e) {
      System.out.println("refused " + e.reason() + " " + e.getMessage());
    }
  }
}
