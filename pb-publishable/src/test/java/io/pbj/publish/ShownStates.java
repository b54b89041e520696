package io.pbj.publish;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Every state that reached user code on the client of a {@link PublishingRun}: each client object
 * of the run registers, when it is made, an {@code onActivated} and an {@code onUpdate} listener
 * that note its identity, version and state as the listener sees them (on the client's executor,
 * where changes are applied one at a time), and whether it was already unpublished. The run checks
 * the notes against the server's history on its own thread.
 *
 * <p>Thread-safety: thread-safe; one run at a time sets {@link #current}.
 */
final class ShownStates {
  /** One state a listener saw. */
  record Shown(String how, RemotePublished object, String identity, long version, String text,
      boolean unpublished) {
    @Override
    public String toString() {
      return how + " " + identity + " v" + version + " " + text
          + (unpublished ? " (already unpublished)" : "");
    }
  }

  /** The run whose client objects are made now; null between runs. */
  static volatile ShownStates current;

  private final ConcurrentLinkedQueue<Shown> shown = new ConcurrentLinkedQueue<>();

  static void created(RemotePublished r) {
    ShownStates s = current;
    if (s == null) {
      return;
    }
    r.onActivated(x -> s.note("activated", r));
    r.onUpdate(x -> s.note("update", r));
  }

  private void note(String how, RemotePublished r) {
    shown.add(new Shown(how, r, r.identity(), r.version(), ((PropertyObject) r).text(),
        r.isUnpublished()));
  }

  /** Also notes what an {@code onPublished} listener saw. */
  void announced(RemotePublished r) {
    note("announced", r);
  }

  /** The notes made since the last call. */
  List<Shown> take() {
    List<Shown> taken = new ArrayList<>();
    for (Shown s; (s = shown.poll()) != null; ) {
      taken.add(s);
    }
    return taken;
  }
}
