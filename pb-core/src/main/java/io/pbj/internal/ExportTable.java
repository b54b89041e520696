package io.pbj.internal;

import io.pbj.PbException;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The objects one side has exported on one connection, by broker-allocated id, with how many
 * times each was sent. An entry is dropped when the peer has released as many receipts as were
 * sent (the root is pinned and never dropped).
 *
 * <p>Thread-safety: thread-safe (all methods synchronize on the table).
 */
final class ExportTable {
  private static final class Entry {
    final int id;
    final Object object;
    final boolean pinned;
    long sent;

    Entry(int id, Object object, boolean pinned) {
      this.id = id;
      this.object = object;
      this.pinned = pinned;
    }
  }

  private final Map<Integer, Entry> byId = new HashMap<>();
  private final Map<Object, Entry> byObject = new IdentityHashMap<>();
  private final int max;
  private final java.util.function.Consumer<Object> onDrop;
  private int nextId = Wire.ROOT_ID + 1;

  /**
   * @param onDrop told, under this table's lock, of each object dropped by a release, so that
   *     a new export of the same object cannot interleave with the clean-up
   */
  ExportTable(int max, java.util.function.Consumer<Object> onDrop) {
    this.max = max;
    this.onDrop = onDrop;
  }

  synchronized void pinRoot(Object root) {
    Entry e = new Entry(Wire.ROOT_ID, root, true);
    byId.put(Wire.ROOT_ID, e);
    byObject.put(root, e);
  }

  /** Counts one more send of {@code object}, exporting it first if needed; returns its id. */
  synchronized int export(Object object) {
    Entry e = byObject.get(object);
    if (e == null) {
      if (byId.size() >= max) {
        throw new PbException(
            PbException.Code.LIMIT_EXCEEDED,
            "cannot export " + object.getClass().getName() + ": this connection already exports "
                + byId.size() + " objects, the limit (maxReferences) is " + max);
      }
      int id;
      do {
        id = nextId++;
        if (nextId < 0) {
          nextId = Wire.ROOT_ID + 1;
        }
      } while (byId.containsKey(id));
      e = new Entry(id, object, false);
      byId.put(id, e);
      byObject.put(object, e);
    }
    e.sent++;
    return e.id;
  }

  /** Takes back one send of {@code id} (an encode that failed after exporting); returns what was dropped, or null. */
  synchronized Object unsend(int id) {
    return release(id, 1);
  }

  /** The object exported as {@code id}, or null. */
  synchronized Object lookup(int id) {
    Entry e = byId.get(id);
    return e == null ? null : e.object;
  }

  /**
   * The peer dropped {@code id} after receiving it {@code receipts} times; returns the object if
   * that was its last export, else null.
   */
  synchronized Object release(int id, int receipts) {
    Entry e = byId.get(id);
    if (e == null || e.pinned) {
      return null;
    }
    e.sent -= receipts;
    if (e.sent <= 0) {
      byId.remove(id);
      byObject.remove(e.object);
      onDrop.accept(e.object);
      return e.object;
    }
    return null;
  }

  synchronized int size() {
    return byId.size();
  }

  synchronized void clear() {
    byId.clear();
    byObject.clear();
  }
}
