package io.pbj.publish;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicInteger;

/** The client side of {@link Tile}: refuses states that are not UTF-8 text starting with "t:". */
public final class TileCache extends RemotePublished {
  volatile String terrain;
  final AtomicInteger applied = new AtomicInteger();
  final AtomicInteger activations = new AtomicInteger();
  volatile String terrainWhenActivated;

  /** Told of every TileCache created, while a test sets it (tests here run one at a time). */
  static volatile java.util.function.Consumer<TileCache> onCreate;

  public TileCache() {
    java.util.function.Consumer<TileCache> hook = onCreate;
    if (hook != null) {
      hook.accept(this);
    }
  }

  @Override
  protected void applyPublishedState(byte[] state, int formatVersion) {
    String s = new String(state, StandardCharsets.UTF_8);
    if (!s.startsWith("t:")) {
      throw new IllegalArgumentException("not a tile: " + s);
    }
    terrain = s.substring(2);
    applied.incrementAndGet();
  }

  @Override
  protected void activated() {
    terrainWhenActivated = terrain;
    activations.incrementAndGet();
  }

  String terrain() {
    return terrain;
  }

  /** The delta {@link Tile#append} sends. */
  @io.pbj.Remote
  public void append(String more) {
    terrain = terrain + more;
  }

  @Override
  protected byte[] encodedState() {
    return ("t:" + terrain).getBytes(StandardCharsets.UTF_8);
  }
}
