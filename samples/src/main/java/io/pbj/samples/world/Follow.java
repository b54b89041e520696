package io.pbj.samples.world;

import io.pbj.publish.Attachment;
import io.pbj.publish.RemotePublished;
import io.pbj.store.SnapshotStore;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Follows a live world for a while on an open {@link WorldSession}: shows a live line of what
 * arrives (updates a second, objects published and unpublished), then stops the comparison on a
 * target that does not move (the server pauses its simulation and answers its digest; the client
 * waits until its view holds exactly the digest's objects at the digest's versions), compares its
 * whole view and its store entries with the digest, and lets the server go on.
 *
 * <pre>{@code
 * try (WorldSession s = WorldSession.open(...)) {
 *   Follow.Result r = Follow.follow(s, store, Duration.ofSeconds(20), err, console, timeout);
 *   out.println(r.line());
 * }
 * }</pre>
 *
 * <p>Thread-safety: stateless; one call follows one session.
 */
final class Follow {
  private Follow() {}

  /**
   * What following showed.
   *
   * @param seconds how long the client followed
   * @param objects objects in the view at the end
   * @param published objects the server published meanwhile (joined the view)
   * @param unpublished objects the server unpublished meanwhile (left the view and the store)
   * @param deltas deltas the client objects applied
   * @param fullStates whole states the client objects applied after activation
   * @param mismatches objects whose view state or version or store entry differs from the
   *     server's digest, or that one side has and the other not
   * @param caughtUp whether the view reached the digest's versions within the timeout
   * @param examples a few mismatches, each with what differed
   */
  record Result(long seconds, int objects, long published, long unpublished, long deltas,
      long fullStates, int mismatches, boolean caughtUp, List<String> examples) {
    /** The line {@code world-client --follow} ends with. */
    String line() {
      return String.format(Locale.ROOT, "follow seconds=%d objects=%d published=%d unpublished=%d"
              + " deltas=%d full_states=%d mismatches=%d",
          seconds, objects, published, unpublished, deltas, fullStates, mismatches);
    }
  }

  /** How long the server keeps still while the client catches up and compares. */
  static final Duration PAUSE = Duration.ofSeconds(30);

  /**
   * Follows {@code session} for {@code length}, drawing the live line on {@code err} (in place
   * when {@code inPlace}, else a line every 5 s), then compares with the server's digest.
   *
   * @throws ExecutionException if a call to the server fails (connection lost)
   * @throws TimeoutException if the server does not answer within the session's timeout
   */
  static Result follow(WorldSession session, SnapshotStore store, Duration length,
      PrintWriter err, boolean inPlace, Duration catchUp)
      throws ExecutionException, TimeoutException, InterruptedException {
    Attachment view = session.attachment();
    Set<RemotePublished> seen = Collections.synchronizedSet(
        Collections.newSetFromMap(new IdentityHashMap<>()));
    view.onPublished(seen::add);
    seen.addAll(view.objects().values());
    // a session with several addresses re-attaches after a failover: a new view goes on counting
    long publishedBefore = 0;
    long unpublishedBefore = 0;
    long[] start = totals(seen, view);
    long begin = System.nanoTime();
    long end = begin + length.toNanos();
    long lastUpdates = 0;
    long lastAt = begin;
    int lines = 0;
    while (true) {
      long now = System.nanoTime();
      if (now - end >= 0) {
        break;
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(TimeUnit.SECONDS.toNanos(1), end - now));
      now = System.nanoTime();
      Attachment latest = session.attachment();
      if (latest != view) {
        publishedBefore += view.publishedSinceAttach();
        unpublishedBefore += view.unpublishedSinceAttach();
        view = latest;
        view.onPublished(seen::add);
      }
      long[] t = totals(seen, view);
      long updates = t[0] + t[1] - start[0] - start[1];
      double rate = (updates - lastUpdates) * 1e9 / Math.max(1, now - lastAt);
      lastUpdates = updates;
      lastAt = now;
      long second = TimeUnit.NANOSECONDS.toSeconds(now - begin);
      String line = String.format(Locale.ROOT,
          "live  %3ds  %,7.0f updates/s  %,d objects  %,d published  %,d unpublished",
          second, rate, view.objects().size(), publishedBefore + view.publishedSinceAttach(),
          unpublishedBefore + view.unpublishedSinceAttach());
      if (inPlace) {
        err.print("\r" + line);
        err.flush();
      } else if (++lines % 5 == 0) {
        err.println(line);
        err.flush();
      }
    }
    if (inPlace) {
      err.println();
    }
    long seconds = Math.round((System.nanoTime() - begin) / 1e9);

    Map<String, String> digest = session.digest(PAUSE);
    boolean caughtUp;
    WorldDigest.Comparison c;
    try {
      long deadline = System.nanoTime() + catchUp.toNanos();
      while (!(caughtUp = WorldDigest.reached(digest, session.attachment()))
          && System.nanoTime() - deadline < 0) {
        TimeUnit.MILLISECONDS.sleep(20);
      }
      Attachment latest = session.attachment();
      if (latest != view) {
        publishedBefore += view.publishedSinceAttach();
        unpublishedBefore += view.unpublishedSinceAttach();
        view = latest;
      }
      c = WorldDigest.compare(digest, view, store);
    } finally {
      session.resume();
    }
    long[] t = totals(seen, view);
    return new Result(seconds, view.objects().size(), publishedBefore + view.publishedSinceAttach(),
        unpublishedBefore + view.unpublishedSinceAttach(), t[0] - start[0], t[1] - start[1],
        c.mismatches(), caughtUp, c.examples());
  }

  /** Deltas and whole states applied by every object seen (gone ones included). */
  private static long[] totals(Set<RemotePublished> seen, Attachment view) {
    seen.addAll(view.objects().values());
    long deltas = 0;
    long whole = 0;
    synchronized (seen) {
      for (RemotePublished r : seen) {
        UpdateCounts u = WorldModel.countsOf(r);
        deltas += u.deltas();
        whole += u.wholeStates();
      }
    }
    return new long[] {deltas, whole};
  }
}
