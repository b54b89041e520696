package io.pbj.publish;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/** A published tile whose state is its terrain, optionally shown differently per perspective. */
final class Tile extends Publishable {
  private volatile String terrain;
  final AtomicInteger statesTaken = new AtomicInteger();
  private final Function<Object, String> view;

  Tile(String id, String terrain, long version) {
    this(id, terrain, version, p -> "");
  }

  Tile(String id, String terrain, long version, Function<Object, String> view) {
    super(id, version);
    this.terrain = terrain;
    this.view = view;
  }

  /** A tile whose version the service assigns. */
  Tile(String id, String terrain) {
    super(id);
    this.terrain = terrain;
    this.view = p -> "";
  }

  @Override
  protected byte[] publishedState(Object perspective) {
    statesTaken.incrementAndGet();
    return ("t:" + terrain + view.apply(perspective)).getBytes(StandardCharsets.UTF_8);
  }

  synchronized void change(String terrain) {
    this.terrain = terrain;
    republish();
  }

  /** Appends to the terrain and pushes it as a delta ({@link TileCache#append}). */
  synchronized void append(String more) {
    this.terrain = terrain + more;
    republishDelta("append", more);
  }

  synchronized String terrain() {
    return terrain;
  }

  synchronized void change(String terrain, long version) {
    this.terrain = terrain;
    republish(version);
  }
}
