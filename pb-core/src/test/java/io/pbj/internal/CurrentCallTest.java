package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.CallContext;
import org.junit.jupiter.api.Test;

/** The thread's current call is restored, not cleared, when a nested call ends. */
class CurrentCallTest {
  @Test
  void aNestedCallRestoresTheOuterOneWhenItEnds() {
    CurrentCall.Frame outer = new CurrentCall.Frame(null, "outer avatar", "outer");
    CurrentCall.Frame inner = new CurrentCall.Frame(null, null, "inner");

    CurrentCall.Frame before = CurrentCall.enter(outer);
    try {
      CurrentCall.Frame replaced = CurrentCall.enter(inner);
      try {
        assertThat(CallContext.current().method()).isEqualTo("inner");
      } finally {
        CurrentCall.restore(replaced);
      }
      assertThat(CallContext.current().method()).isEqualTo("outer");
      assertThat(CallContext.current().perspective()).isEqualTo("outer avatar");
    } finally {
      CurrentCall.restore(before);
    }
    assertThat(before).isNull();
    assertThat(CallContext.find()).isEmpty();
  }
}
