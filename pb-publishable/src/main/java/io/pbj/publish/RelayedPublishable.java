package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import io.pbj.publish.internal.WireState;
import java.util.Objects;

/**
 * An upstream object re-published by a {@link Relay}: the origin's identity, version, format and
 * state, passed through untouched, sent as the registered class the origin sent. It follows one
 * upstream {@link RemotePublished} at a time (its <em>source</em>; a re-attach upstream binds a
 * new one): whole states are pushed downstream whole, deltas as deltas, and it always holds the
 * state of the version it serves, so a client that attaches downstream never gets a stale state.
 *
 * <p>Thread-safety: thread-safe; changes and the states taken for clients synchronize on this
 * object (as {@link Publishable} does).
 */
final class RelayedPublishable extends Publishable {
  private final Class<? extends Cacheable> sentAs;
  @GuardedBy("this")
  private WireState state;
  @GuardedBy("this")
  private RemotePublished source;
  /** The version the source reached last, whether or not this object holds its state. */
  @GuardedBy("this")
  private long upstreamVersion;
  /** The source is at a version whose state this object does not hold (it must fetch it). */
  @GuardedBy("this")
  private boolean behind;
  @GuardedBy("this")
  private boolean fetching;

  RelayedPublishable(WireState state, Class<? extends Cacheable> sentAs) {
    super(state.identity(), state.version());
    this.state = state;
    this.upstreamVersion = state.version();
    this.sentAs = Objects.requireNonNull(sentAs, "sentAs");
  }

  @Override
  protected synchronized Object publishedState(Object perspective) {
    return state.state();
  }

  @Override
  protected synchronized int formatVersion() {
    return state.format();
  }

  @Override
  public Class<? extends Cacheable> sentAs() {
    return sentAs;
  }

  /** Follows {@code upstream} from now on; changes of any earlier source are ignored. */
  synchronized void bind(RemotePublished upstream) {
    source = upstream;
    fetching = false;
  }

  synchronized RemotePublished source() {
    return source;
  }

  /**
   * A change its source applied (called under the source's lock, in order): a delta on top of the
   * version held goes downstream as the same delta, with the source's new state kept for later
   * attaches; otherwise the new whole state goes downstream. Returns true if the source cannot
   * give the new state (a class without {@link RemotePublished#encodedState()}): the caller
   * fetches it upstream ({@link #fetched}); meanwhile this object goes on serving the last state
   * it holds, at that state's version, and forwards nothing.
   */
  synchronized boolean changed(
      RemotePublished from, long fromVersion, long version, String method, Object[] args,
      WireState now) {
    if (from != source) {
      return false;
    }
    upstreamVersion = version;
    behind = false;
    if (version == version()) {
      return false;    // holds it already (a rebound source at the same version)
    }
    if (now != null && now.state() != null) {
      boolean delta = method != null && fromVersion == version();
      state = now;
      if (delta) {
        republishDelta(version, method, args);
      } else {
        republish(version);
      }
      return false;
    }
    behind = true;
    if (fetching) {
      return false;    // the fetch under way is followed by another
    }
    fetching = true;
    return true;
  }

  /**
   * The whole state fetched for a change that came without one ({@link #changed} returned true),
   * or null if the fetch failed. Returns true if it must be fetched again (the source moved on
   * meanwhile).
   */
  synchronized boolean fetched(RemotePublished from, WireState w) {
    if (from != source) {
      return false;
    }
    fetching = false;
    if (!behind || w == null) {
      return false;    // a later whole state caught up; or the connection is gone: a re-attach binds anew
    }
    if (w.state() != null && w.version() == upstreamVersion) {
      behind = false;
      if (w.version() != version()) {
        state = w;
        republish(w.version());
      }
      return false;
    }
    fetching = true;
    return true;
  }
}
