package io.pbj.store.internal;

import java.util.Map;

/**
 * The three maps a backend provides, all keyed by encoded key strings: entries (key to entry
 * record), index (key to index record) and meta (the header). Only the writer thread mutates
 * them; readers call {@code entries().get} concurrently, which every backend supports.
 */
abstract class Tables implements AutoCloseable {
  abstract Map<String, byte[]> entries();

  abstract Map<String, byte[]> index();

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
