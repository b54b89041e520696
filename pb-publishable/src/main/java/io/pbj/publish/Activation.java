package io.pbj.publish;

import io.pbj.PbException;
import io.pbj.publish.internal.WireState;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Activates a batch of received objects for an {@link Attachment}: version-only states from the
 * store where the stored version and format are the server's (one ordered {@code getAll}), the
 * stale ones with one batched fetch, fresh states written to the store in batches before the
 * objects count as activated; then every object's hook, listeners and {@code whenReady()}, in
 * order. Used by an attach, an announcement of published objects and an interest change.
 *
 * <p>Thread-safety: not thread-safe; one activation runs on one connection's executor at a time
 * (the steps of an attachment are chained).
 */
final class Activation {
  private static final Logger log = LoggerFactory.getLogger(Activation.class);

  /** Batches written to the store with one {@code putAll} each. */
  static final int STORE_BATCH = 1000;

  private final Attachment attachment;
  private final SnapshotStore store;
  private final List<RemotePublished> objects;
  private final boolean lenient;
  private final Consumer<ActivationProgress> progress;
  private final boolean retainStates;
  private final Map<SnapshotKey, Snapshot> toStore = new HashMap<>();
  /** Objects whose fresh state is in {@link #toStore}: marked activated once it is written. */
  private final List<Runnable> awaitingWrite = new ArrayList<>();
  /** Hooks, listeners and futures to run, in order, once every object is activated. */
  private final List<RemotePublished> announce = new ArrayList<>();
  private long bytesDone;
  private long bytesTotal;
  private long objectsDone;
  int hits;
  int inlined;
  int fetched;
  int extraCalls;

  /**
   * @param lenient an object whose state it refuses, or that is gone when fetched, is left out
   *     (an announcement); otherwise the whole activation fails (an attach)
   */
  Activation(Attachment attachment, List<RemotePublished> objects, boolean lenient,
      Consumer<ActivationProgress> progress, boolean retainStates) {
    this.attachment = attachment;
    this.store = attachment.client().store();
    this.objects = new ArrayList<>(objects);
    this.lenient = lenient;
    this.progress = progress;
    this.retainStates = retainStates;
  }

  /** Completes with the activated objects, in order; failures fail every object not activated. */
  CompletableFuture<List<RemotePublished>> run() {
    try {
      List<RemotePublished> stale = new ArrayList<>();
      List<RemotePublished> versionOnly = new ArrayList<>();
      List<SnapshotKey> versionOnlyKeys = new ArrayList<>();
      for (RemotePublished r : List.copyOf(objects)) {
        if (retainStates) {
          r.retainStates();
        }
        WireState w = r.received();
        if (w == null) {
          done(0);    // already activated by an earlier attach on this connection
          continue;
        }
        SnapshotKey key = attachment.key(w.identity());
        if (w.state() != null) {
          if (activateFresh(r, key, w)) {
            inlined++;
          }
          continue;
        }
        versionOnly.add(r);
        versionOnlyKeys.add(key);
      }
      Map<SnapshotKey, Snapshot> stored =
          versionOnly.isEmpty() ? Map.of() : store.getAll(versionOnlyKeys);
      for (Snapshot s : stored.values()) {
        bytesTotal += s.stateSize();
      }
      for (int i = 0; i < versionOnly.size(); i++) {
        RemotePublished r = versionOnly.get(i);
        SnapshotKey key = versionOnlyKeys.get(i);
        WireState w = r.received();
        Snapshot snap = stored.get(key);
        if (snap != null && snap.version() == w.version() && snap.formatVersion() == w.format()) {
          byte[] state = snap.state();
          if (r.tryApply(state, w.format(), w.version(), true) == null) {
            r.markActivated(key, store, w.version(), w.revision(), true, attachment::refresh);
            announce.add(r);
            hits++;
            done(state.length);
            continue;
          }
        }
        if (snap != null) {
          bytesTotal -= snap.stateSize();
        }
        stale.add(r);
      }
      if (stale.isEmpty()) {
        return CompletableFuture.completedFuture(finish());
      }
      String[] ids = new String[stale.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = stale.get(i).received().identity();
      }
      extraCalls++;
      return attachment.endpoint()
          .callRemote(List.class, "fetch", (Object) ids)
          .handle((states, failure) -> {
            if (failure != null) {
              throw fail(new PublishException(
                  PbException.Code.ACTIVATION_FAILED,
                  "fetching " + ids.length + " stale objects from " + attachment.serverId() + "/"
                      + attachment.service() + " failed: " + PbException.unwrap(failure),
                  PbException.unwrap(failure)));
            }
            try {
              fetched(ids, stale, states);
              return finish();
            } catch (RuntimeException e) {
              throw fail(e);
            }
          });
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(fail(e));
    }
  }

  private void fetched(String[] ids, List<RemotePublished> stale, List<?> states) {
    if (states == null || states.size() != ids.length) {
      throw new PublishException(
          PbException.Code.PROTOCOL_ERROR,
          "fetch answered " + (states == null ? "null" : states.size() + " states")
              + " for " + ids.length + " identities");
    }
    for (int i = 0; i < ids.length; i++) {
      Object answer = states.get(i);
      if (answer == null) {
        // Unpublished since the answer that named it: it leaves this batch (its announcement
        // follows on a live attachment).
        RemotePublished r = stale.get(i);
        objects.remove(r);
        r.fail(new PublishException(PbException.Code.NO_SUCH_OBJECT,
            ids[i] + " was unpublished while it was being activated"));
        release(r);
        attachment.client().store().remove(attachment.key(ids[i]));
        continue;
      }
      if (!(answer instanceof WireState w) || w.state() == null || !ids[i].equals(w.identity())) {
        throw new PublishException(
            PbException.Code.PROTOCOL_ERROR,
            "fetch answered no state for " + ids[i]);
      }
      if (activateFresh(stale.get(i), attachment.key(ids[i]), w)) {
        fetched++;
      }
    }
  }

  /**
   * Applies a state from the server. The object is marked activated only after its state is
   * written to the store, so a push arriving meanwhile is held and applied (and stored) after
   * the older state, never overwritten by it. Returns false if a lenient activation left the
   * object out because it refused the state.
   */
  private boolean activateFresh(RemotePublished r, SnapshotKey key, WireState w) {
    byte[] bytes;
    try {
      RuntimeException refused = r.tryApply(w.state(), w.format(), w.version(), false);
      if (refused != null) {
        throw new PublishException(
            PbException.Code.ACTIVATION_FAILED,
            r.getClass().getName() + " could not apply the state of " + w.identity() + " v"
                + w.version() + " from the server: " + refused.getMessage(), refused);
      }
      bytes = r.storedForm(w.state());
    } catch (RuntimeException e) {
      if (!lenient) {
        throw e;
      }
      log.warn("{}/{}: {} left out: {}", attachment.serverId(), attachment.service(),
          w.identity(), e.getMessage());
      objects.remove(r);
      r.fail(e);
      release(r);
      return false;
    }
    bytesTotal += bytes.length;
    toStore.put(key, Snapshot.of(w.version(), w.format(), bytes));
    awaitingWrite.add(() -> {
      r.markActivated(key, store, w.version(), w.revision(), false, attachment::refresh);
      announce.add(r);
    });
    done(bytes.length);
    if (toStore.size() >= STORE_BATCH) {
      writeBatch();
    }
    return true;
  }

  private void done(int bytes) {
    objectsDone++;
    bytesDone += bytes;
    if (progress != null) {
      long n = objects.size();
      if (objectsDone == n || objectsDone % Math.max(1, n / 100) == 0) {
        progress.accept(new ActivationProgress(objectsDone, n, bytesDone, bytesTotal));
      }
    }
  }

  private void writeBatch() {
    if (toStore.isEmpty()) {
      return;
    }
    long dropped = store.stats().droppedWrites();
    store.putAll(Map.copyOf(toStore));
    if (store.stats().droppedWrites() != dropped) {
      // The write-behind queue was full: wait for it to drain once and try again. A batch
      // dropped twice only costs a refetch next session (a dropped key reads as a miss).
      store.flush();
      store.putAll(Map.copyOf(toStore));
    }
    toStore.clear();
    for (Runnable mark : awaitingWrite) {
      mark.run();
    }
    awaitingWrite.clear();
  }

  private List<RemotePublished> finish() {
    writeBatch();
    if (progress != null && objects.isEmpty()) {
      progress.accept(new ActivationProgress(0, 0, 0, 0));
    }
    for (RemotePublished r : announce) {
      r.announce();
    }
    return objects;
  }

  private RuntimeException fail(RuntimeException e) {
    for (RemotePublished r : objects) {
      if (!r.isActivated()) {
        r.fail(e);
        release(r);
      }
    }
    return e;
  }

  /** Fails every object of an answer that is not activated (the answer was refused). */
  static RuntimeException failAll(List<Object> answered, RuntimeException e) {
    if (answered != null) {
      for (Object o : answered) {
        if (o instanceof RemotePublished r && !r.isActivated()) {
          r.fail(e);
          release(r);
        }
      }
    }
    return e;
  }

  /** Releases an object that will not be used, so a later send gets a fresh one. */
  static void release(RemotePublished r) {
    if (r.isConnected()) {
      r.release();
    }
  }
}
