package io.pbj.store.internal;

import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The three maps a backend provides, all keyed by encoded key strings: entries (key to entry
 * record), index (key to index record) and meta (the header). Only the writer thread mutates
 * them; readers call {@code entries().get} concurrently, which every backend supports. Every use
 * goes through {@code DefaultSnapshotStore}'s backend lock, so nothing touches a Tables that is
 * being abandoned or closed; anything a Tables throws while reading a damaged file is caught
 * there.
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

  /**
   * Checked once after open: null when the file is as long and as new as its backend header
   * promises, else a message that starts with "truncated" and gives the numbers.
   */
  String truncation() {
    return null;
  }

  /**
   * Closes a store found damaged, writing as little as the backend allows, so the file moved
   * aside is the file that failed.
   */
  void abandon() {
    close();
  }

  @Override
  public abstract void close();
}
