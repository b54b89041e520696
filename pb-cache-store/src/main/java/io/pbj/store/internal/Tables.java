package io.pbj.store.internal;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The three maps a backend provides, all keyed by encoded key strings: entries (key to entry
 * record), index (key to index record) and meta (the header). Only the writer thread mutates
 * them; readers call {@code entries().get} concurrently, which every backend supports.
 */
abstract class Tables implements AutoCloseable {
  abstract Map<String, byte[]> entries();

  abstract Map<String, byte[]> index();

  /**
   * Hands every entry with a key from {@code from} to {@code to} (both inclusive), in key order,
   * to {@code sink}: one ordered pass, cheaper than a lookup per key. Safe alongside the writer,
   * as {@code entries().get} is.
   */
  void scanEntries(String from, String to, BiConsumer<String, byte[]> sink) {
    if (!(entries() instanceof java.util.NavigableMap<String, byte[]> sorted)) {
      throw new IllegalStateException(getClass().getName() + " must override scanEntries");
    }
    for (Map.Entry<String, byte[]> e : sorted.subMap(from, true, to, true).entrySet()) {
      sink.accept(e.getKey(), e.getValue());
    }
  }

  abstract Map<String, byte[]> meta();

  /** Makes every change since the last commit durable, atomically. */
  abstract void commit();

  /** Discards every change since the last commit, where the backend can. */
  abstract void rollback();

  /** Size of the store's files; 0 without a file. */
  abstract long fileBytes();

  @Override
  public abstract void close();
}
