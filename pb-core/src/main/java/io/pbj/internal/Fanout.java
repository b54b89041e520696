package io.pbj.internal;

import io.pbj.PbException;
import io.pbj.RemoteObserver;
import java.util.Objects;

/**
 * The implementation of {@link RemoteObserver#callRemoteAll}: one update to many observers,
 * encoded once where the bytes allow it (see {@link SharedUpdate}).
 *
 * <p>Thread-safety: stateless; each call works on its own {@link SharedUpdate}.
 */
public final class Fanout {
  private Fanout() {}

  /** See {@link RemoteObserver#callRemoteAll}. */
  public static void callRemoteAll(
      Iterable<? extends RemoteObserver> observers, String method, Object[] args) {
    Objects.requireNonNull(observers, "observers");
    Objects.requireNonNull(method, "method");
    Object[] values = args == null ? new Object[] {null} : args;
    SharedUpdate update = new SharedUpdate(method, values);
    PbException failure = null;
    try {
      for (RemoteObserver o : observers) {
        try {
          if (o instanceof RealRemoteObserver real) {
            real.push(update);
          } else {
            o.callRemote(method, values);
          }
        } catch (PbException e) {
          if (failure == null) {
            failure = e;
          }
        }
      }
    } finally {
      update.release();
    }
    if (failure != null) {
      throw failure;
    }
  }
}
