package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.PbRemoteException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The one error family on the wire: every code's name travels and comes back as that code. */
class ErrorsTest {
  @Test
  void everyCodeArrivesAsItself() {
    for (PbException.Code code : PbException.Code.values()) {
      if (code == PbException.Code.REMOTE_FAILURE) {
        continue; // a remote failure arrives as PbRemoteException, tested below
      }
      Throwable back =
          Errors.fromWire(
              Errors.toWire(new PbException(code, "what went wrong"), false), PbRegistry.defaults());
      assertThat(back).isInstanceOf(PbException.class).hasMessageContaining("what went wrong");
      assertThat(((PbException) back).code()).as("%s", code).isEqualTo(code);
    }
  }

  @Test
  void subclassesOfTheFamilyTravelByTheirCode() {
    PbException sub =
        new PbException(PbException.Code.SERVER_ID_MISMATCH, "expected a, got b") {};
    Throwable back = Errors.fromWire(Errors.toWire(sub, false), PbRegistry.defaults());
    assertThat(((PbException) back).code()).isEqualTo(PbException.Code.SERVER_ID_MISMATCH);
  }

  @Test
  void unknownCodeNameFromANewerPeerArrivesAsARemoteFailure() {
    Throwable back =
        Errors.fromWire(
            new Message.ErrorInfo("SOMETHING_NEW", "x.Y", "m", null), PbRegistry.defaults());
    assertThat(back).isInstanceOf(PbRemoteException.class);
  }

  @Test
  void unwrapRemovesEveryFutureWrapper() {
    PbException inner = new PbException(PbException.Code.CANCELLED, "c");
    assertThat(
            PbException.unwrap(new CompletionException(new ExecutionException(inner))))
        .isSameAs(inner);
    assertThat(PbException.unwrap(inner)).isSameAs(inner);
  }
}
