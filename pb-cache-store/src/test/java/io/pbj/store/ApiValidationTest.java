package io.pbj.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ApiValidationTest {
  @Test
  void keyPartsMustBePresentAndNulFree() {
    assertThatThrownBy(() -> new SnapshotKey(null, "s", "p", "i"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SnapshotKey.server must not be null");
    assertThatThrownBy(() -> new SnapshotKey("h", "", "p", "i"))
        .hasMessage("SnapshotKey.service must not be empty");
    assertThatThrownBy(() -> new SnapshotKey("h", "s", "p\u0000x", "i"))
        .hasMessageContaining("SnapshotKey.perspective must not contain the NUL character");
    assertThatThrownBy(() -> new SnapshotKey("h", "s", "p", null))
        .hasMessage("SnapshotKey.identity must not be null");
    assertThat(new SnapshotKey("h", "s", "p", "").identity()).isEmpty();
  }

  @Test
  void prefixPartsAreSetLeftToRight() {
    assertThatThrownBy(() -> new SnapshotPrefix(null, "s", null))
        .hasMessage("SnapshotPrefix.service is set but server is not");
    assertThat(SnapshotPrefix.of("h", "s").matches(new SnapshotKey("h", "s", "p", "i"))).isTrue();
    assertThat(SnapshotPrefix.of("h", "s", "q").matches(new SnapshotKey("h", "s", "p", "i"))).isFalse();
  }

  @Test
  void snapshotsAreImmutable() {
    byte[] state = {1, 2};
    Snapshot s = Snapshot.of(1, 1, Instant.EPOCH, state);
    state[0] = 9;
    s.state()[1] = 9;
    assertThat(s.state()).containsExactly(1, 2);
    assertThatThrownBy(() -> Snapshot.of(1, -1, state)).hasMessageContaining("Snapshot.formatVersion");
  }

  @Test
  void anOptionSetTwiceFailsNamingIt() {
    assertThatThrownBy(() -> SnapshotStore.builder().budgetBytes(10).budgetBytes(20))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("SnapshotStoreBuilder.budgetBytes was already set");
    assertThatThrownBy(() -> SnapshotStore.builder().backend(StoreBackend.MEMORY).backend(StoreBackend.MAPDB))
        .hasMessage("SnapshotStoreBuilder.backend was already set");
  }

  @Test
  void badValuesFailNamingTheOption() {
    assertThatThrownBy(() -> SnapshotStore.builder().budgetBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("SnapshotStoreBuilder.budgetBytes must be > 0, was 0");
    assertThatThrownBy(() -> SnapshotStore.builder().writeBatchSize(-1))
        .hasMessage("SnapshotStoreBuilder.writeBatchSize must be > 0, was -1");
    assertThatThrownBy(() -> SnapshotStore.builder().writeInterval(Duration.ZERO))
        .hasMessageContaining("SnapshotStoreBuilder.writeInterval must be positive");
    assertThatThrownBy(() -> SnapshotStore.builder().writeQueueBound(0))
        .hasMessageContaining("SnapshotStoreBuilder.writeQueueBound must be > 0");
  }

  @Test
  void conflictingOptionsFailAtBuild() {
    assertThatThrownBy(() -> SnapshotStore.builder().backend(StoreBackend.MEMORY).path(Path.of("x")).build())
        .hasMessageContaining("SnapshotStoreBuilder.path conflicts with backend MEMORY");
    assertThatThrownBy(() -> SnapshotStore.builder().backend(StoreBackend.MAPDB).build())
        .hasMessage("SnapshotStoreBuilder.path is required for backend MAPDB");
    assertThatThrownBy(
            () -> SnapshotStore.builder().backend(StoreBackend.MEMORY).writeBatchSize(100).writeQueueBound(10).build())
        .hasMessage("SnapshotStoreBuilder.writeQueueBound (10) must be >= writeBatchSize (100)");
  }
}
