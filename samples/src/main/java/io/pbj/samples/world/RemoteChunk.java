package io.pbj.samples.world;

import io.pbj.publish.RemotePublished;

/**
 * The client's copy of a published terrain chunk: activated from the local store when the stored
 * version is the server's, otherwise from the state the server sent, and replaced by every
 * republish.
 *
 * <pre>{@code
 * RemoteChunk chunk = attachment.get("c:12:7", RemoteChunk.class);
 * ChunkState state = chunk.state();
 * boolean local = chunk.fromStore();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the state is replaced whole and read through a volatile field.
 */
public final class RemoteChunk extends RemotePublished {
  private volatile ChunkState state;

  @Override
  protected void applyPublishedState(byte[] bytes, int formatVersion) {
    state = ChunkState.decode(bytes, formatVersion);
  }

  /** The terrain chunk as last applied; null before activation. */
  public ChunkState state() {
    return state;
  }
}
