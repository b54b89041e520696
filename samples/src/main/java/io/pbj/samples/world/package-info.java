/**
 * The world sample: a tile world of published objects (terrain chunks, houses, items), its
 * server with a proven id, a client that walks it, and the embedded demo the README runs.
 */
package io.pbj.samples.world;
