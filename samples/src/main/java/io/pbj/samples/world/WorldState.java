package io.pbj.samples.world;

/**
 * The state of one object of the tile world: a terrain chunk, a house or an item. Each is a
 * record registered in {@link WorldModel#registry()}: the server's {@code publishedState} returns
 * it, the client's {@link RemoteChunk}, {@link RemoteHouse} and {@link RemoteItem} receive it,
 * and both sides' stores keep pb-core's encoding of it ({@link io.pbj.PbCodec}), under a format
 * derived from the record's shape. There is no hand-written codec.
 *
 * <pre>{@code
 * byte[] bytes = chunk.encode();                                  // what a store keeps
 * ChunkState back = WorldModel.codec().decode(bytes, ChunkState.class);
 * assert back.equals(chunk);
 * }</pre>
 *
 * <p>Thread-safety: implementations are immutable.
 */
public sealed interface WorldState permits ChunkState, HouseState, ItemState {
  /** The published identity: {@code c:X:Y}, {@code h:N} or {@code i:N}. */
  String identity();

  /** pb-core's encoding of the state (as stores keep it), with the world's registry. */
  default byte[] encode() {
    return WorldModel.codec().encode(this);
  }
}
