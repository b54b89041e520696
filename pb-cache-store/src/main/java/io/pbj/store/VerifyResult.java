package io.pbj.store;

import java.util.List;

/**
 * Outcome of {@link SnapshotStore#verify()}: how many committed entries were read and which of
 * them failed their checksum or could not be decoded.
 *
 * <p>Immutable and thread-safe.
 *
 * <pre>{@code
 * VerifyResult r = store.verify();
 * if (!r.ok()) System.err.println(r.damaged().size() + " damaged of " + r.checked());
 * }</pre>
 */
public record VerifyResult(long checked, List<String> damaged) {
  public VerifyResult {
    damaged = List.copyOf(damaged);
  }

  /** True when every entry passed. */
  public boolean ok() {
    return damaged.isEmpty();
  }
}
