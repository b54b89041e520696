package io.pbj.samples.world;

import io.pbj.publish.Attachment;
import io.pbj.publish.RemotePublished;
import io.pbj.samples.world.ChunkState.Terrain;
import io.pbj.samples.world.WorldModel.Kind;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Formatting shared by the world commands' reports.
 *
 * <p>Thread-safety: stateless.
 */
final class Reports {
  private Reports() {}

  /** A count with thousands separators. */
  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  /** A byte count for people: B, KiB or MiB. */
  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
  }

  /** A percentage with one decimal. */
  static String percent(double fraction) {
    return String.format(Locale.ROOT, "%.1f%%", fraction * 100);
  }

  /** "2,500 terrain chunks, 3,500 houses, 4,000 items". */
  static String kinds(Map<Kind, Integer> counts) {
    StringJoiner j = new StringJoiner(", ");
    counts.forEach((k, n) -> j.add(count(n) + " " + k.plural));
    return j.toString();
  }

  /** Objects of each kind in an attachment. */
  static Map<Kind, Integer> counts(Attachment a) {
    Map<Kind, Integer> counts = new EnumMap<>(Kind.class);
    for (Kind k : Kind.values()) {
      counts.put(k, 0);
    }
    a.objects().keySet().forEach(id -> counts.merge(Kind.of(id), 1, Integer::sum));
    return counts;
  }

  /**
   * A walk along the top row of the map, from the client's copies: terrain seen, houses and
   * items passed. Reads only activated objects, as client code would.
   */
  static String walk(Attachment a) {
    Map<Terrain, Integer> terrain = new EnumMap<>(Terrain.class);
    int chunks = 0;
    int houses = 0;
    int items = 0;
    int tiles = 0;
    for (RemotePublished r : a.objects().values()) {
      WorldState s = WorldModel.stateOf(r);
      if (s instanceof ChunkState c && c.y() == 0) {
        chunks++;
        tiles += ChunkState.SIZE * ChunkState.SIZE;
        c.terrainCounts().forEach((t, n) -> terrain.merge(t, n, Integer::sum));
      } else if (s instanceof HouseState h && h.chunkY() == 0) {
        houses++;
      } else if (s instanceof ItemState i && i.y() < ChunkState.SIZE) {
        items++;
      }
    }
    StringJoiner seen = new StringJoiner(", ");
    int total = Math.max(1, tiles);
    terrain.entrySet().stream()
        .sorted(Map.Entry.<Terrain, Integer>comparingByValue().reversed())
        .limit(4)
        .forEach(e -> seen.add(e.getKey().name().toLowerCase(Locale.ROOT) + " "
            + Math.round(e.getValue() * 100.0 / total) + "%"));
    return "the top row of the map: " + count(chunks) + " chunks (" + seen + "), "
        + count(houses) + " houses and " + count(items) + " items along the way";
  }

  /** The header of the sessions table; {@link #row} gives its lines. */
  static String header() {
    return String.format(Locale.ROOT, "%-8s %8s %8s  %-34s %10s  %-31s %s",
        "session", "objects", "time ms", "wire bytes (sent + received)", "store hits",
        "from server (inlined + fetched)", "extra round trips");
  }

  /** One session as a line of the sessions table. */
  static String row(String session, WorldSession.Result r) {
    return String.format(Locale.ROOT, "%-8s %8s %8s  %-34s %10s  %-31s %s",
        session, count(r.objects()), count(r.millis()),
        count(r.bytes()) + " (" + count(r.bytesSent()) + " + " + count(r.bytesReceived()) + ")",
        count(r.hits()),
        count(r.stale()) + " (" + count(r.attachment().inlined()) + " + "
            + count(r.attachment().fetched()) + ")",
        r.roundTrips());
  }

  /** What the byte and time columns measure. */
  static final String MEASURED =
      "wire bytes: counted by the client's connection (PbConnection.stats(), bytes sent +"
          + " received, framing included) from just before the attach call until every object"
          + " was activated; time ms: the same span (connecting is not included)";
}
