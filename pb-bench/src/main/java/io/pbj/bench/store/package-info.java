/**
 * The snapshot store benchmark: puts, gets and reopening for each backend (MapDB, H2 MVStore,
 * memory) side by side; see {@link io.pbj.bench.store.StoreBench}.
 */
package io.pbj.bench.store;
