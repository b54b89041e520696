package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Store files written by format version 1 (by {@link GoldenStoreWriter}, stored gzipped) must keep
 * opening with their contents intact.
 */
class GoldenStoreTest {
  @TempDir Path dir;

  @ParameterizedTest
  @CsvSource({"MAPDB, store-v1.mapdb", "MVSTORE, store-v1.mv"})
  void aFormatOneStoreStillOpensWithEveryEntry(StoreBackend backend, String resource) throws IOException {
    Path file = dir.resolve(resource);
    try (InputStream in = GoldenStoreTest.class.getResourceAsStream("/golden/" + resource + ".gz")) {
      assertThat(in).as("golden file %s", resource).isNotNull();
      Files.copy(new GZIPInputStream(in), file);
    }
    try (SnapshotStore s =
        SnapshotStore.builder().backend(backend).path(file).quarantineDamaged(false).build()) {
      assertThat(s.size()).isEqualTo(12);
      for (int i = 0; i < 12; i++) {
        assertThat(s.get(GoldenStoreWriter.key(i))).contains(GoldenStoreWriter.snapshot(i));
      }
      assertThat(s.list(SnapshotPrefix.of("pb://golden:7000", "world", "guest")))
          .extracting(SnapshotEntry::version)
          .containsExactly(100L, 110L, 102L, 104L, 106L, 108L);
      assertThat(s.verify().ok()).isTrue();
    }
  }
}
