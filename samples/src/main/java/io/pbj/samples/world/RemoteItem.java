package io.pbj.samples.world;

import io.pbj.Remote;
import io.pbj.publish.RemoteValue;

/**
 * The client's copy of a published item: its {@link ItemState} value, activated from the local
 * store when the stored version is the server's, otherwise from the state the server sent, then
 * moved by the server's {@link #moveTo} deltas (each stored at its new version).
 *
 * <pre>{@code
 * RemoteItem item = attachment.get("i:5020", RemoteItem.class);
 * ItemState state = item.value();
 * item.onUpdate(r -> System.out.println("moved to " + item.value().x()));
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the value is replaced whole (see {@link RemoteValue}).
 */
public final class RemoteItem extends RemoteValue<ItemState> {
  private final UpdateCounts counts = new UpdateCounts();

  /** The delta {@code Item} sends: the item now lies at world tile ({@code x}, {@code y}). */
  @Remote
  public void moveTo(int x, int y) {
    counts.delta(() -> update(value().movedTo(x, y)));
  }

  @Override
  protected void applied(ItemState old, ItemState now) {
    counts.applied(old);
  }

  /** The item as last applied; null before activation. */
  public ItemState state() {
    return value();
  }

  UpdateCounts counts() {
    return counts;
  }
}
