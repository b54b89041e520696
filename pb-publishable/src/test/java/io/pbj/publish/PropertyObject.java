package io.pbj.publish;

/**
 * An object of {@link PublishingRun}, on either side, whose state reads as one text ({@code
 * "t:terrain"} for a tile, {@code "c:name:count"} for a counter): what the run's history keeps.
 */
interface PropertyObject {
  /** The state now, as text; null before a client object has one. */
  String text();
}
