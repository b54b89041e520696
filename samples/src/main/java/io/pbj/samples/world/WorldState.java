package io.pbj.samples.world;

/**
 * The state of one object of the tile world, as the application encodes it: a terrain chunk, a
 * house or an item. The server publishes {@link #encode()}; the client's {@link RemoteChunk},
 * {@link RemoteHouse} and {@link RemoteItem} decode it back.
 *
 * <pre>{@code
 * byte[] bytes = chunk.encode();                       // what the server publishes
 * ChunkState back = ChunkState.decode(bytes, 1);       // what the client applies
 * assert back.equals(chunk);
 * }</pre>
 *
 * <p>Thread-safety: implementations are immutable.
 */
public sealed interface WorldState permits ChunkState, HouseState, ItemState {
  /** The published identity: {@code c:X:Y}, {@code h:N} or {@code i:N}. */
  String identity();

  /** The state in the world's binary encoding (format 1). */
  byte[] encode();
}
