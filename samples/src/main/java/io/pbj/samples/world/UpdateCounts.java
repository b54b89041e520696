package io.pbj.samples.world;

/**
 * What one client object received after it was activated: deltas (its delta methods ran) and
 * whole states (a republish, or the whole state fetched after a gap in its deltas). The first
 * state, from the store or the server, is neither. The client classes count here because the
 * application knows which of its methods a delta ran; {@code RemotePublished.onUpdate} does not
 * say.
 *
 * <p>Thread-safety: written by the client's executor one change at a time (under the object's
 * lock), read from any thread.
 */
final class UpdateCounts {
  private volatile boolean inDelta;
  private volatile long deltas;
  private volatile long wholeStates;

  /** Runs a delta method's {@code update}; counts it if it took. */
  void delta(Runnable update) {
    inDelta = true;
    try {
      update.run();
    } finally {
      inDelta = false;
    }
    deltas++;
  }

  /** From {@code RemoteValue.applied}: a whole state unless it is the first or a delta's. */
  void applied(Object old) {
    if (old != null && !inDelta) {
      wholeStates++;
    }
  }

  long deltas() {
    return deltas;
  }

  long wholeStates() {
    return wholeStates;
  }
}
