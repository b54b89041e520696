package io.pbj.bench.publish;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The network between the benchmark's client and servers: plain loopback TCP, or a link with a
 * bandwidth per direction and a round-trip time that a {@link LinkProxy} simulates on loopback.
 *
 * <p>Immutable.
 *
 * @param name the name on the command line and in the report: {@code loopback} or
 *     {@code <N>mbit-<M>ms}
 * @param bitsPerSecond the bandwidth of each direction; 0 for loopback (no limit, no proxy)
 * @param rttNanos the round-trip time; each direction delays by half of it
 */
record Link(String name, long bitsPerSecond, long rttNanos) {
  static final Link LOOPBACK = new Link("loopback", 0, 0);

  private static final Pattern SHAPED = Pattern.compile("([0-9]{1,6})mbit-([0-9]{1,5})ms");
  private static final String FORM = "'loopback' or '<N>mbit-<M>ms' (e.g. 100mbit-20ms)";

  /** Whether the client talks to the servers directly, without a proxy. */
  boolean isLoopback() {
    return bitsPerSecond == 0;
  }

  /** The delay each direction adds: half the round-trip time. */
  long oneWayNanos() {
    return rttNanos / 2;
  }

  /** For the report: what the link is. */
  String description() {
    if (isLoopback()) {
      return "loopback TCP, client connected to the servers directly";
    }
    return String.format(Locale.ROOT,
        "simulated link: %d Mbit/s each way, %s ms round trip (%s ms each way), through a"
            + " forwarding proxy on loopback", bitsPerSecond / 1_000_000, millis(rttNanos),
        millis(oneWayNanos()));
  }

  private static String millis(long nanos) {
    return nanos % 1_000_000 == 0
        ? Long.toString(nanos / 1_000_000)
        : String.format(Locale.ROOT, "%.1f", nanos / 1e6);
  }

  /**
   * Parses {@code loopback} or {@code <N>mbit-<M>ms} (N megabit per second each way, N at least
   * 1; M milliseconds round trip, 0 allowed); a bad value fails naming it and the form.
   */
  static Link parse(String value) {
    String v = value.trim();
    if (v.equals(LOOPBACK.name)) {
      return LOOPBACK;
    }
    Matcher m = SHAPED.matcher(v);
    if (!m.matches()) {
      throw new IllegalArgumentException("bad link '" + value + "': expected " + FORM);
    }
    long mbit = Long.parseLong(m.group(1));
    long ms = Long.parseLong(m.group(2));
    if (mbit == 0) {
      throw new IllegalArgumentException(
          "bad link '" + value + "': the bandwidth must be at least 1 mbit");
    }
    return new Link(mbit + "mbit-" + ms + "ms", mbit * 1_000_000, ms * 1_000_000);
  }

  /** Parses a comma-separated list of links, keeping the order given and dropping repeats. */
  static List<Link> parseList(String value) {
    Set<Link> links = new LinkedHashSet<>();
    for (String part : value.split(",", -1)) {
      links.add(parse(part));
    }
    return new ArrayList<>(links);
  }
}
