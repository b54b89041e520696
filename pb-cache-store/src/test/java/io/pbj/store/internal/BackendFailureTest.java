package io.pbj.store.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.store.StoreException;
import io.pbj.store.internal.BackendFailure.Action;
import java.nio.BufferUnderflowException;
import org.junit.jupiter.api.Test;

/** Which throwables from a backend call are a damaged file, and which are none of the store's business. */
class BackendFailureTest {
  private static final long MAX = 1000;

  @Test
  void whatDecodersThrowOnDamagedPagesIsQuarantined() {
    for (Throwable t : new Throwable[] {
        new BufferUnderflowException(),
        new NegativeArraySizeException("-295830016"),
        new IndexOutOfBoundsException(),
        new ClassCastException("class [Z cannot be cast to class [B"),
        new IllegalStateException("File corrupted in chunk 2"),
        new DamagedFileException("value length 1073741824 exceeds the 600 bytes left"),
        new AssertionError(),
        new StackOverflowError(),
        new InternalError("a fault occurred in an unsafe memory access operation")}) {
      assertThat(BackendFailure.classify(t, 10, MAX)).as("%s", t).isEqualTo(Action.QUARANTINE);
    }
  }

  @Test
  void anOutOfMemoryErrorWithHeadroomWasTheDecodersAbsurdRequest() {
    assertThat(BackendFailure.classify(new OutOfMemoryError("Java heap space"), 100, MAX))
        .isEqualTo(Action.QUARANTINE);
    assertThat(BackendFailure.classify(new OutOfMemoryError("Requested array size exceeds VM limit"), 999, MAX))
        .isEqualTo(Action.QUARANTINE);
  }

  @Test
  void anOutOfMemoryErrorWithTheHeapNearlyFullIsAlsoRethrown() {
    assertThat(BackendFailure.classify(new OutOfMemoryError("Java heap space"), 760, MAX))
        .isEqualTo(Action.QUARANTINE_AND_RETHROW);
    assertThat(BackendFailure.classify(new OutOfMemoryError("Metaspace"), 999, MAX))
        .isEqualTo(Action.QUARANTINE_AND_RETHROW);
  }

  @Test
  void errorsThatAreNotAboutTheFileAndOurOwnExceptionsPropagate() {
    assertThat(BackendFailure.classify(new NoClassDefFoundError("org/mapdb/DB"), 10, MAX)).isEqualTo(Action.PROPAGATE);
    assertThat(BackendFailure.classify(new InternalError("something else"), 10, MAX)).isEqualTo(Action.PROPAGATE);
    assertThat(BackendFailure.classify(
            new StoreException(StoreException.Reason.CLOSED, "closed"), 10, MAX))
        .isEqualTo(Action.PROPAGATE);
  }

  @Test
  void theDescriptionIsOneLineWithTypeMessageAndWhere() {
    String d = BackendFailure.describe(new NegativeArraySizeException("-295830016"));
    assertThat(d)
        .startsWith("java.lang.NegativeArraySizeException: -295830016 (at ")
        .contains("BackendFailureTest")
        .doesNotContain("\n");
  }
}
