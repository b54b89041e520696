package io.pbj.samples.world;

import io.pbj.publish.PublishingService;
import io.pbj.samples.world.WorldModel.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * A live world: a thread that makes {@code N} changes a second, in {@value #TICKS_PER_SECOND}
 * ticks a second, each tick one {@link PublishingService#batch} (so its publishes and unpublishes
 * reach each client in a few messages). It writes through a {@link WorldWriter}: to one origin's
 * service, or to an origin cluster, where a gate ({@link ClusterWorld#mayTick}) lets one member's
 * simulation tick at a time. Of the changes, about 1.5% publish a new house or item,
 * 1.5% unpublish one, 7% republish a house whole, and the rest are deltas: a chunk's tile
 * ({@link Chunk#setTile}) or an item's move ({@link Item#moveTo}). Every {@value
 * #SAVE_EVERY_TICKS} ticks, and when it stops, what changed is handed to a {@link Saver} (the
 * server's archive).
 *
 * <p>{@link #pauseAndDigest} stops the changes for a while and answers the world's digest at that
 * moment, so a client can wait until it has caught up with a target that does not move.
 *
 * <pre>{@code
 * try (LiveSimulation live = LiveSimulation.start(world, service, 200, new Random(), saver)) {
 *   Map<String, String> digest = live.pauseAndDigest(Duration.ofSeconds(10));
 *   ...
 *   live.resume();
 * }
 * }</pre>
 *
 * <p>Thread-safety: thread-safe; ticks, pauses and digests exclude each other.
 */
final class LiveSimulation implements AutoCloseable {
  static final int TICKS_PER_SECOND = 10;
  static final int SAVE_EVERY_TICKS = 10;
  /** Longest pause one call may ask for. */
  static final Duration MAX_PAUSE = Duration.ofMinutes(1);
  /** Fewest houses or items the simulation leaves (it never unpublishes the last ones). */
  private static final int MIN_OF_KIND = 2;

  /** Where the changes of a live world go to be kept. */
  interface Saver {
    void save(Collection<WorldObject<?>> changed, Collection<String> removed);
  }

  private final World world;
  private final WorldWriter writer;
  private final BooleanSupplier mayTick;
  private final int perSecond;
  private final Random random;
  private final Saver saver;
  private final Object tick = new Object();
  private final Thread thread;
  private final AtomicLong changes = new AtomicLong();
  private final AtomicLong deltas = new AtomicLong();
  private final AtomicLong wholeStates = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong unpublished = new AtomicLong();
  // guarded by tick
  private long pausedUntil;
  private final Map<String, WorldObject<?>> dirty = new LinkedHashMap<>();
  private final Set<String> removed = new LinkedHashSet<>();
  private volatile boolean stopped;

  private LiveSimulation(World world, WorldWriter writer, BooleanSupplier mayTick, int perSecond,
      Random random, Saver saver) {
    if (perSecond < 1) {
      throw new IllegalArgumentException("changes per second must be at least 1, got " + perSecond);
    }
    this.world = world;
    this.writer = writer;
    this.mayTick = mayTick;
    this.perSecond = perSecond;
    this.random = random;
    this.saver = saver;
    this.pausedUntil = System.nanoTime();
    this.thread = new Thread(this::run, "world-live");
    this.thread.setDaemon(true);
  }

  /** Starts changing {@code world}, published in {@code service}, {@code perSecond} times a second. */
  static LiveSimulation start(
      World world, PublishingService service, int perSecond, Random random, Saver saver) {
    return start(world, WorldWriter.local(service), () -> true, perSecond, random, saver);
  }

  /**
   * Starts changing {@code world} through {@code writer}, {@code perSecond} times a second, in
   * the ticks for which {@code mayTick} (asked at each tick, with ticks and pauses excluded)
   * answers true.
   */
  static LiveSimulation start(World world, WorldWriter writer, BooleanSupplier mayTick,
      int perSecond, Random random, Saver saver) {
    LiveSimulation s = new LiveSimulation(world, writer, mayTick, perSecond, random, saver);
    s.thread.start();
    return s;
  }

  private void run() {
    long tickNanos = TimeUnit.SECONDS.toNanos(1) / TICKS_PER_SECOND;
    long next = System.nanoTime();
    double owed = 0;
    int ticks = 0;
    while (!stopped) {
      next += tickNanos;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(wait);
        } catch (InterruptedException e) {
          break;
        }
      } else if (-wait > TimeUnit.SECONDS.toNanos(1)) {
        next = System.nanoTime();    // far behind (a slow machine): do not make up for it all
      }
      owed += perSecond / (double) TICKS_PER_SECOND;
      int n = (int) owed;
      owed -= n;
      tick(n);
      if (++ticks % SAVE_EVERY_TICKS == 0) {
        save();
      }
    }
  }

  /** Makes {@code n} changes as one batch, unless paused. */
  void tick(int n) {
    synchronized (tick) {
      if (System.nanoTime() - pausedUntil < 0 || !mayTick.getAsBoolean()) {
        return;
      }
      writer.batch(() -> {
        for (int i = 0; i < n; i++) {
          step();
        }
      });
    }
  }

  private void step() {
    int r = random.nextInt(1000);
    if (r < 15) {
      WorldObject<?> o = world.spawn(r < 6 ? Kind.HOUSE : Kind.ITEM, random);
      writer.publish(o);
      dirty.put(o.identity(), o);
      removed.remove(o.identity());
      published.incrementAndGet();
    } else if (r < 30) {
      WorldObject<?> o = pick(r < 21 ? Kind.ITEM : Kind.HOUSE);
      if (o == null || world.counts().get(Kind.of(o.identity())) <= MIN_OF_KIND) {
        return;
      }
      world.remove(o.identity());
      writer.unpublish(o.identity());
      dirty.remove(o.identity());
      removed.add(o.identity());
      unpublished.incrementAndGet();
    } else {
      WorldObject<?> o = r < 100 ? pick(Kind.HOUSE) : pick(r % 2 == 0 ? Kind.CHUNK : Kind.ITEM);
      if (o == null) {
        return;
      }
      o.changeRandomly(random, world.worldTiles(), writer);
      dirty.put(o.identity(), o);
      (o.changesByDelta() ? deltas : wholeStates).incrementAndGet();
    }
    changes.incrementAndGet();
  }

  /** An object of {@code kind} picked at random; null if none turned up in a few tries. */
  private WorldObject<?> pick(Kind kind) {
    for (int i = 0; i < 32; i++) {
      WorldObject<?> o = world.random(random);
      if (o != null && Kind.of(o.identity()) == kind) {
        return o;
      }
    }
    return null;
  }

  private void save() {
    List<WorldObject<?>> changed;
    List<String> gone;
    synchronized (tick) {
      changed = new ArrayList<>(dirty.values());
      gone = new ArrayList<>(removed);
      dirty.clear();
      removed.clear();
    }
    if (!changed.isEmpty() || !gone.isEmpty()) {
      saver.save(changed, gone);
    }
  }

  /**
   * Stops the changes for {@code pause} (at most {@link #MAX_PAUSE}; a later call or {@link
   * #resume} ends it sooner or later) once the tick under way is done, and answers the world's
   * digest at that moment.
   *
   * @throws IllegalArgumentException if {@code pause} is negative or longer than {@link #MAX_PAUSE}
   */
  Map<String, String> pauseAndDigest(Duration pause) {
    if (pause.isNegative() || pause.compareTo(MAX_PAUSE) > 0) {
      throw new IllegalArgumentException(
          "a pause must be 0 to " + MAX_PAUSE.toSeconds() + " s, got " + pause);
    }
    synchronized (tick) {
      pausedUntil = System.nanoTime() + pause.toNanos();
      return WorldDigest.of(world);
    }
  }

  /** Ends a pause: the changes go on at the next tick. */
  void resume() {
    synchronized (tick) {
      pausedUntil = System.nanoTime();
    }
  }

  /** Changes made so far. */
  long changes() {
    return changes.get();
  }

  long deltas() {
    return deltas.get();
  }

  long wholeStates() {
    return wholeStates.get();
  }

  long published() {
    return published.get();
  }

  long unpublished() {
    return unpublished.get();
  }

  /** Stops the thread, waits for it, and saves what changed since the last save. */
  @Override
  public void close() {
    stopped = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    save();
  }
}
