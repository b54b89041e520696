package io.pbj.samples.world;

import io.pbj.Remote;
import io.pbj.publish.RemoteValue;

/**
 * The client's copy of a published terrain chunk: its {@link ChunkState} value, activated from
 * the local store when the stored version is the server's, otherwise from the state the server
 * sent, then changed one tile at a time by the server's {@link #setTile} deltas (each stored at
 * its new version).
 *
 * <pre>{@code
 * RemoteChunk chunk = attachment.get("c:12:7", RemoteChunk.class);
 * Terrain t = chunk.value().terrainAt(3, 17);
 * boolean local = chunk.fromStore();
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; the value is replaced whole (see {@link RemoteValue}).
 */
public final class RemoteChunk extends RemoteValue<ChunkState> {
  private final UpdateCounts counts = new UpdateCounts();

  /** The delta {@code Chunk} sends: tile {@code index} becomes terrain {@code terrain}. */
  @Remote
  public void setTile(int index, int terrain) {
    counts.delta(() -> update(value().withTile(index, terrain)));
  }

  @Override
  protected void applied(ChunkState old, ChunkState now) {
    counts.applied(old);
  }

  /** The terrain chunk as last applied; null before activation. */
  public ChunkState state() {
    return value();
  }

  UpdateCounts counts() {
    return counts;
  }
}
