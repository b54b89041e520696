package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreBackend;
import io.pbj.store.StoreException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A file from a newer format is refused with a clear message and left untouched. */
class FormatVersionTest {
  @TempDir Path dir;

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aNewerFormatIsRefusedNotQuarantined(StoreBackend backend) throws Exception {
    Path file = dir.resolve("future.store");
    try (Tables t = backend == StoreBackend.MAPDB ? new MapDbTables(file) : new MvStoreTables(file)) {
      ByteBuffer h = ByteBuffer.allocate(40);
      h.put("PBJSTORE".getBytes(StandardCharsets.US_ASCII)).putInt(99).putLong(0).putLong(0);
      t.meta().put(Codec.HEADER_KEY, h.array());
      t.commit();
    }
    assertThatThrownBy(() -> SnapshotStore.builder().backend(backend).path(file).build())
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("format 99 is newer than this code reads")
        .satisfies(e -> assertThat(((StoreException) e).reason()).isEqualTo(StoreException.Reason.UNSUPPORTED_FORMAT));
    try (var s = Files.list(dir)) {
      assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains(".damaged-"));
    }
  }

  @ParameterizedTest
  @EnumSource(value = StoreBackend.class, names = {"MAPDB", "MVSTORE"})
  void aFileWithForeignMapsIsNotAStore(StoreBackend backend) {
    Path file = dir.resolve("foreign.store");
    try (Tables t = backend == StoreBackend.MAPDB ? new MapDbTables(file) : new MvStoreTables(file)) {
      t.index().put("someone else's", new byte[] {1});
      t.commit();
    }
    assertThatThrownBy(
            () -> SnapshotStore.builder().backend(backend).path(file).quarantineDamaged(false).build())
        .isInstanceOf(StoreException.class)
        .hasMessageContaining("no PBJ store header");
  }
}
