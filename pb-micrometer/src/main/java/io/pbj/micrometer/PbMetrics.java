package io.pbj.micrometer;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.pbj.PbCall;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbListener;
import io.pbj.publish.AttachListener;
import io.pbj.publish.Attachment;
import io.pbj.store.SnapshotStore;
import io.pbj.store.StoreStats;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * Binds PBJ to a Micrometer {@link MeterRegistry}: one instance is the {@link PbListener} of a
 * broker (calls, connections, bytes, Cacheable pushes, backpressure) and the {@link
 * AttachListener} of a {@link io.pbj.publish.PublishedClient} (attach timings, store hits and
 * misses), and gauges a {@link SnapshotStore}'s sizes. Meter names start with {@code pbj.}; the
 * list, with tags, is in docs/OBSERVABILITY.md.
 *
 * <pre>{@code
 * PbMetrics metrics = PbMetrics.create(registry, Tags.of("broker", "lobby"));
 * PbServer server = PbServer.builder().port(7000).root(lobby).eventListener(metrics).build();
 * // on a client that attaches to published objects:
 * PublishedClient published = PublishedClient.builder().store(store)
 *     .expectedServerId(serverId).attachListener(metrics).build();
 * metrics.bindStore(store, "world");
 * }</pre>
 *
 * <p>One instance may serve several brokers (their numbers add up under the same tags), or each
 * broker gets its own with a tag that tells them apart. Bytes and messages are read from each
 * open connection's {@link PbConnection#stats()} when the registry polls, and added to a total
 * when it closes, so counting them costs the broker nothing per byte.
 *
 * <p>Thread-safety: thread-safe; the broker calls it from many threads at once.
 */
public final class PbMetrics implements PbListener, AttachListener {
  private final MeterRegistry registry;
  private final Tags tags;
  private final Map<String, Timer> calls = new ConcurrentHashMap<>();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> attaches = new ConcurrentHashMap<>();
  private final Set<PbConnection> open = ConcurrentHashMap.newKeySet();
  /** What closed connections carried; guarded by {@code this} with the move out of {@link #open}. */
  private final long[] closedTotals = new long[4];

  private PbMetrics(MeterRegistry registry, Tags tags) {
    this.registry = registry;
    this.tags = tags;
    Gauge.builder("pbj.connections.open", open, Set::size)
        .tags(tags)
        .description("connections that completed their handshake and are open")
        .register(registry);
    traffic("pbj.bytes.sent", "bytes", "protocol bytes written", 0, PbConnection.Stats::bytesSent);
    traffic("pbj.bytes.received", "bytes", "protocol bytes read", 1,
        PbConnection.Stats::bytesReceived);
    traffic("pbj.messages.sent", null, "protocol messages written", 2,
        PbConnection.Stats::messagesSent);
    traffic("pbj.messages.received", null, "protocol messages read", 3,
        PbConnection.Stats::messagesReceived);
  }

  /** Metrics in {@code registry}, without tags of their own. */
  public static PbMetrics create(MeterRegistry registry) {
    return create(registry, Tags.empty());
  }

  /** Metrics in {@code registry}, each meter with {@code tags} (e.g. which broker). */
  public static PbMetrics create(MeterRegistry registry, Iterable<Tag> tags) {
    return new PbMetrics(
        Objects.requireNonNull(registry, "registry"), Tags.of(Objects.requireNonNull(tags, "tags")));
  }

  private void traffic(
      String name, String unit, String description, int slot,
      ToLongFunction<PbConnection.Stats> field) {
    FunctionCounter.builder(name, this, m -> m.total(slot, field))
        .tags(tags)
        .baseUnit(unit)
        .description(description)
        .register(registry);
  }

  private synchronized double total(int slot, ToLongFunction<PbConnection.Stats> field) {
    long sum = closedTotals[slot];
    for (PbConnection c : open) {
      sum += field.applyAsLong(c.stats());
    }
    return sum;
  }

  // ---- PbListener ----

  @Override
  public void connectionOpened(PbConnection connection) {
    synchronized (this) {
      open.add(connection);
    }
    counter("pbj.connections.opened", Tags.empty(), "connections opened").increment();
  }

  @Override
  public void connectionClosed(PbConnection connection, PbException cause) {
    PbConnection.Stats stats = connection.stats();
    synchronized (this) {
      open.remove(connection);
      closedTotals[0] += stats.bytesSent();
      closedTotals[1] += stats.bytesReceived();
      closedTotals[2] += stats.messagesSent();
      closedTotals[3] += stats.messagesReceived();
    }
    counter("pbj.connections.closed", Tags.of("cause", cause.code().name()),
        "connections closed, by the code of the cause").increment();
  }

  @Override
  public void callEnded(PbCall call, long nanos, Throwable failure) {
    String outcome = outcome(failure);
    String side = call.side().name().toLowerCase(java.util.Locale.ROOT);
    String key = side + '\0' + call.method() + '\0' + outcome;
    Timer timer = calls.get(key);
    if (timer == null) {
      timer = calls.computeIfAbsent(key, k ->
          Timer.builder("pbj.calls")
              .tags(tags)
              .tag("side", side)
              .tag("method", call.method())
              .tag("outcome", outcome)
              .description("remote calls made (side=client) or run (side=server), by method")
              .register(registry));
    }
    timer.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void pushSent(PbConnection connection, Class<?> cacheable, String method) {
    push(cacheable, "sent");
  }

  @Override
  public void pushFailed(
      PbConnection connection, Class<?> cacheable, String method, Throwable failure) {
    push(cacheable, "failed");
  }

  private void push(Class<?> cacheable, String result) {
    counter("pbj.pushes", Tags.of("cacheable", cacheable.getName(), "result", result),
        "Cacheable updates pushed to observers").increment();
  }

  @Override
  public void backpressure(PbConnection connection, Pressure pressure, String detail) {
    counter("pbj.backpressure", Tags.of("kind", pressure.name().toLowerCase(java.util.Locale.ROOT)),
        "times backpressure acted").increment();
  }

  // ---- AttachListener ----

  @Override
  public void attached(Attachment attachment, long nanos) {
    attachTimer(attachment.service(), "OK").record(nanos, TimeUnit.NANOSECONDS);
    objects(attachment.service(), "hit", attachment.hits());
    objects(attachment.service(), "inlined", attachment.inlined());
    objects(attachment.service(), "fetched", attachment.fetched());
    if (attachment.removed() > 0) {
      counter("pbj.attach.removed", Tags.of("service", attachment.service()),
          "store entries removed because the server no longer publishes them")
          .increment(attachment.removed());
    }
  }

  @Override
  public void attachFailed(String service, Throwable failure, long nanos) {
    attachTimer(service, outcome(failure)).record(nanos, TimeUnit.NANOSECONDS);
  }

  private Timer attachTimer(String service, String outcome) {
    return attaches.computeIfAbsent(service + '\0' + outcome, k ->
        Timer.builder("pbj.attach")
            .tags(tags)
            .tag("service", service)
            .tag("outcome", outcome)
            .description("attaches to published services, until their objects are activated")
            .register(registry));
  }

  private void objects(String service, String result, int count) {
    Counter c = counter("pbj.attach.objects", Tags.of("service", service, "result", result),
        "objects activated by attaches: hit from the store, or state from the server (inlined in"
            + " the answer, or fetched as stale or missing)");
    if (count > 0) {
      c.increment(count);
    }
  }

  // ---- the store ----

  /**
   * Gauges {@code store}'s sizes and counters under the tag {@code store=name}. The registry
   * holds the store weakly: a closed and forgotten store stops reporting.
   *
   * @return this
   */
  public PbMetrics bindStore(SnapshotStore store, String name) {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(name, "name");
    Tags storeTags = tags.and("store", name);
    gauge("pbj.store.entries", store, storeTags, null, "entries in the store", StoreStats::entries);
    gauge("pbj.store.size", store, storeTags, "bytes", "accounted size of the entries",
        StoreStats::bytes);
    gauge("pbj.store.budget", store, storeTags, "bytes", "the store's size budget",
        s -> s.budgetBytes() == Long.MAX_VALUE ? Double.NaN : s.budgetBytes());
    gauge("pbj.store.file.size", store, storeTags, "bytes", "the store file on disk",
        StoreStats::fileBytes);
    gauge("pbj.store.writes.queued", store, storeTags, null,
        "puts and removes waiting for the write-behind commit", StoreStats::queuedWrites);
    storeCounter("pbj.store.hits", store, storeTags, "reads that found a snapshot",
        StoreStats::hits);
    storeCounter("pbj.store.misses", store, storeTags, "reads that found nothing",
        StoreStats::misses);
    storeCounter("pbj.store.evictions", store, storeTags, "entries evicted for the budget",
        StoreStats::evictions);
    storeCounter("pbj.store.checksum.failures", store, storeTags,
        "reads whose stored checksum did not match", StoreStats::checksumFailures);
    storeCounter("pbj.store.writes.dropped", store, storeTags,
        "puts refused because the write-behind queue was full", StoreStats::droppedWrites);
    storeCounter("pbj.store.commits", store, storeTags, "transactions committed",
        StoreStats::commits);
    storeCounter("pbj.store.quarantines", store, storeTags,
        "times the store file was found damaged and moved aside", StoreStats::quarantines);
    return this;
  }

  private void gauge(
      String name, SnapshotStore store, Tags storeTags, String unit, String description,
      ToDoubleFunction<StoreStats> value) {
    Gauge.builder(name, store, s -> value.applyAsDouble(s.stats()))
        .tags(storeTags)
        .baseUnit(unit)
        .description(description)
        .register(registry);
  }

  private void storeCounter(
      String name, SnapshotStore store, Tags storeTags, String description,
      Function<StoreStats, Long> value) {
    FunctionCounter.builder(name, store, s -> value.apply(s.stats()))
        .tags(storeTags)
        .description(description)
        .register(registry);
  }

  // ---- helpers ----

  private Counter counter(String name, Tags extra, String description) {
    String key = name + extra;
    Counter c = counters.get(key);
    if (c == null) {
      c = counters.computeIfAbsent(key, k ->
          Counter.builder(name).tags(tags).tags(extra).description(description).register(registry));
    }
    return c;
  }

  /** {@code OK}, the {@link PbException.Code}, or the simple name of the failure's class. */
  private static String outcome(Throwable failure) {
    if (failure == null) {
      return "OK";
    }
    return failure instanceof PbException pb ? pb.code().name() : failure.getClass().getSimpleName();
  }
}
