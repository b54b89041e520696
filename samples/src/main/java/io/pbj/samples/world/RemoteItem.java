package io.pbj.samples.world;

import io.pbj.publish.RemotePublished;

/**
 * The client's copy of a published item: activated from the local store when the stored
 * version is the server's, otherwise from the state the server sent, and replaced by every
 * republish.
 *
 * <pre>{@code
 * RemoteItem item = attachment.get("i:5020", RemoteItem.class);
 * ItemState state = item.state();
 * boolean local = item.fromStore();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is replaced whole and read through a volatile field.
 */
public final class RemoteItem extends RemotePublished {
  private volatile ItemState state;

  @Override
  protected void applyPublishedState(byte[] bytes, int formatVersion) {
    state = ItemState.decode(bytes, formatVersion);
  }

  /** The item as last applied; null before activation. */
  public ItemState state() {
    return state;
  }
}
