package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.Cacheable;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.ReconnectPolicy;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.Builders;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import io.pbj.publish.internal.WireState;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of an upstream publishing server that re-publishes one of its services to its own
 * clients, with the <em>origin's</em> server id, identities and versions: a client's cache stays
 * valid whether it connects to the origin directly or through any relay. The relay keeps its own
 * {@link io.pbj.store.SnapshotStore}, so it reactivates from it (only stale objects transfer from
 * upstream) and answers its clients' reactivation from what it holds. Relays stack: a relay's
 * upstream may be another relay.
 *
 * <pre>{@code
 * Relay relay = Relay.builder()
 *     .registry(registry)                 // the registry the origin and the clients use
 *     .upstream(PublishedClient.builder()
 *         .store(relayStore)              // the relay's own store
 *         .expectedServerId(originId))    // the origin's id, as its server prints it
 *     .reconnect(ReconnectPolicy.exponential(Duration.ofMillis(200), Duration.ofSeconds(30)))
 *     .build();
 * // at the origin: PublishingService.builder()...delegateToRelays(p -> p instanceof RelayAccount)
 * relay.attach(() -> PbClient.builder().address("origin", 7000).registry(registry).build()
 *     .session(), "world").join();        // a new upstream connection for each (re)attach
 * PbServer downstream = PbServer.builder().port(7001).registry(registry)
 *     .root(relay.service().endpoint()).build().start();
 * }</pre>
 *
 * <p><b>A live world.</b> The relay forwards what happens upstream after it attached: objects the
 * upstream publishes are published downstream (announced to the relay's live clients), objects it
 * unpublishes are unpublished downstream (removed from its clients and their stores), whole
 * states are pushed down whole, and deltas ({@link Publishable#republishDelta}) are pushed down
 * as the same deltas, each in the order the upstream object applied it. After a delta the relay
 * keeps the object's new whole state for clients that attach later: the upstream object's
 * state after the delta, which a {@link RemoteValue} always has and a byte-state class gives
 * through {@link RemotePublished#encodedState()}. A class that cannot encode its state after a
 * delta costs one {@code fetch} upstream per change (one at a time per object): meanwhile the
 * relay forwards nothing for that object and goes on serving the last whole state it holds, at
 * that state's version, then pushes the fetched state down whole. So a client of a relay never
 * receives a state under a version whose state it is not, even for such classes.
 *
 * <p><b>Reconnection.</b> Attached with {@link #attach(Supplier, String)}, a relay whose upstream
 * connection is lost goes on serving what it holds (attaches included, still proven), asks its
 * connector for a new endpoint and attaches again, waiting between failed attempts as the
 * {@link Builder#reconnect} policy says (exponential with jitter, capped), until {@link #close()}.
 * The re-attach lists the relay's store, so in inventory mode only objects whose version changed
 * cross; then the relay makes its downstream service equal to what the upstream holds, in one
 * batch of announcements: changed objects are pushed down whole at their new version, new ones
 * published, gone ones unpublished, unchanged ones left alone; its clients see no gap and no
 * stale object. Each re-attach also renews the relay's delegation. A relay attached with {@link
 * #attach(RemoteReference, String)} has no way to make a new connection: it keeps serving what
 * it holds and does not reconnect.
 *
 * <p><b>Proofs.</b> A relay cannot sign as the origin: it proves the origin's id to its own
 * clients with a <em>delegation</em>. Each relay has a key pair of its own (made when it is built)
 * and sends its public key with its upstream attach; an upstream service that lets the relay's
 * perspective relay ({@link PublishingService.Builder#delegateToRelays}) answers with a
 * certificate, signed by the upstream's key, for the relay's key, the origin's id, the service
 * and the relay's perspective key, valid until an expiry. The relay's attach answers downstream
 * carry the chain of certificates from the origin to its key and its own signature over the
 * client's nonce; clients check the chain back to the origin's id. Relays stack up to {@value
 * #MAX_DEPTH} deep; a relay delegates further only to the perspectives its own {@link
 * Builder#delegateToRelays} accepts. A relay without a delegation (or whose upstream proved
 * nothing) serves unproven: its clients refuse it unless they allow unproven ids. When the
 * certificate expires, the relay's answers stop carrying a proof (and its clients refuse them)
 * until the relay attaches upstream again (a re-attach, or a new relay).
 *
 * <p>Downstream, every connection sees what the relay's upstream perspective sees, and is named
 * by that perspective's key in store keys ({@link PublishingService.Builder#fixedPerspectiveKey}).
 *
 * <p>Thread-safety: thread-safe. Changes are forwarded on the upstream connection's executor;
 * the connector and the reconnection attempts run on the relay's own reconnect thread ({@code
 * pbj-relay-reconnect}), which exists only while an attempt is scheduled and ends with {@link
 * #close()}.
 */
public final class Relay implements AutoCloseable {
  /**
   * Most relays one behind another that can prove an origin's id: a chain of delegations holds at
   * most this many, and a relay this deep delegates to nobody.
   */
  public static final int MAX_DEPTH = 3;

  private static final Logger log = LoggerFactory.getLogger(Relay.class);

  private final PublishedClient upstreamClient;
  private final PbRegistry registry;
  private final ServerKey key = ServerKey.generate();
  private final Predicate<Object> mayRelay;
  private final Clock clock;
  private final ReconnectPolicy reconnect;
  private final Random random = new Random();
  private final AtomicBoolean attaching = new AtomicBoolean();
  private final Map<Class<?>, Class<? extends Cacheable>> sentAs = new ConcurrentHashMap<>();
  /** Guards the fields below and every change of what is relayed downstream. */
  private final Object lock = new Object();
  @GuardedBy("lock")
  private Attachment current;
  @GuardedBy("lock")
  private PublishingService downstream;
  @GuardedBy("lock")
  private String downstreamKey;
  /** What is published downstream, by identity. */
  @GuardedBy("lock")
  private final Map<String, RelayedPublishable> relayed = new HashMap<>();
  @GuardedBy("lock")
  private boolean closed;
  @GuardedBy("lock")
  private ScheduledThreadPoolExecutor timer;
  @GuardedBy("lock")
  private Supplier<? extends CompletionStage<RemoteReference>> connector;
  @GuardedBy("lock")
  private String serviceName;
  /** Re-attaches since the relay first attached (tests, metrics). */
  private final AtomicInteger reattached = new AtomicInteger();

  private Relay(Builder b) {
    this.registry = b.registry;
    this.mayRelay = b.mayRelay;
    this.clock = b.clock;
    this.reconnect = b.reconnect == null ? ReconnectPolicy.defaults() : b.reconnect;
    this.upstreamClient = b.upstream.retainStates().relayKey(key).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Attaches to {@code service} upstream through {@code endpoint}, activates every object (from
   * the relay's store where the version matches), and publishes them downstream in {@link
   * #service()}; from then on it forwards what the upstream publishes, unpublishes and changes.
   * Completes with this relay; fails as {@link PublishedClient#attach} does, or with {@link
   * IllegalStateException} if a registered class is missing or ambiguous. If the upstream
   * connection is lost, the relay goes on serving what it holds but cannot reconnect: use {@link
   * #attach(Supplier, String)} for a relay that reconnects.
   *
   * @throws IllegalStateException if this relay attached before, or is attaching (a failed
   *     attach releases what it got upstream and may be tried again)
   */
  public CompletableFuture<Relay> attach(RemoteReference endpoint, String service) {
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(service, "service");
    claim();
    return first(upstreamClient.attach(endpoint, service), false);
  }

  /**
   * Attaches to {@code service} upstream through an endpoint {@code connector} makes, as {@link
   * #attach(RemoteReference, String)} does, and keeps attached: when the upstream connection is
   * lost, the relay goes on serving what it holds, asks {@code connector} for a new endpoint and
   * attaches again, with the {@link Builder#reconnect} backoff between failed attempts, until
   * {@link #close()}. Each re-attach lists the relay's store (in inventory mode only changed
   * objects cross), forwards downstream exactly what changed, appeared or disappeared meanwhile,
   * and renews the relay's delegation. The connector runs on the relay's reconnect thread; it
   * may make a new connection ({@code () -> PbClient.builder()...build().session()}) or return
   * the next session of a client that reconnects by itself ({@code client::session}). The
   * connections it gives are the caller's: a connection the relay could not attach over is
   * closed, the others are left open when the relay closes. The first attach is not retried: if
   * it fails, the returned future fails, and the relay may attach again.
   *
   * @throws IllegalStateException if this relay attached before, or is attaching
   */
  public CompletableFuture<Relay> attach(
      Supplier<? extends CompletionStage<RemoteReference>> connector, String service) {
    Objects.requireNonNull(connector, "connector");
    Objects.requireNonNull(service, "service");
    claim();
    synchronized (lock) {
      this.connector = connector;
      this.serviceName = service;
    }
    CompletableFuture<Attachment> attached;
    try {
      attached = connector.get().toCompletableFuture()
          .thenCompose(endpoint -> upstreamClient.attach(endpoint, service));
    } catch (RuntimeException e) {
      attached = CompletableFuture.failedFuture(e);
    }
    return first(attached, true);
  }

  private void claim() {
    if (!attaching.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "this Relay already attached (or is attaching); a relay serves one upstream");
    }
  }

  private CompletableFuture<Relay> first(CompletableFuture<Attachment> attached,
      boolean reconnects) {
    return attached
        .thenApply(upstream -> {
          try {
            switchTo(upstream, true);
          } catch (RuntimeException e) {
            releaseAll(upstream);
            throw e;
          }
          if (reconnects) {
            watch(upstream);
          }
          return this;
        })
        .whenComplete((relay, failure) -> {
          if (failure != null) {
            attaching.set(false);    // nothing is relayed: the relay may attach again
          }
        });
  }

  /**
   * Makes {@code upstream} the attachment relayed: the downstream service (built on the first
   * attach; a re-attach gives it the new delegation), then what is published downstream made
   * equal to what {@code upstream} holds, announced downstream in one batch.
   *
   * @param strict the first attach: an object the relay cannot re-publish fails it (later, such
   *     an object is left out and logged)
   */
  private void switchTo(Attachment upstream, boolean strict) {
    if (strict) {
      for (RemotePublished r : upstream.objects().values()) {
        sentAs(r.getClass());    // a missing class fails the attach before anything is published
      }
    }
    IdProof.Prover prover = prover(upstream);
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the Relay is closed");
      }
      if (downstream == null) {
        PublishingService.Builder b = PublishingService.builder()
            .relayOf(upstream.serverId(), prover)
            .service(upstream.service())
            .fixedPerspectiveKey(upstream.perspectiveKey());
        if (mayRelay != null) {
          b.delegateToRelays(mayRelay);
        }
        if (clock != null) {
          b.clock(clock);
        }
        downstream = b.build();
        downstreamKey = upstream.perspectiveKey();
      } else {
        if (!downstreamKey.equals(upstream.perspectiveKey())) {
          log.warn("relay {}: the upstream now names its perspective {}, not {}; its clients"
                  + " keep storing under {}", key.serverId(), upstream.perspectiveKey(),
              downstreamKey, downstreamKey);
        }
        downstream.replaceProver(prover);
      }
      current = upstream;
      // Before reconciling: what the upstream announces from now on is synced by identity, and
      // what it announced before is in its objects() already.
      upstream.onPublished(r -> sync(upstream, r.identity()));
      upstream.onUnpublished(r -> sync(upstream, r.identity()));
      PublishingService d = downstream;
      d.batch(() -> {
        Map<String, RemotePublished> now = upstream.objects();
        for (String id : new ArrayList<>(relayed.keySet())) {
          if (!now.containsKey(id)) {
            syncOne(upstream, id, null);
          }
        }
        for (RemotePublished r : now.values()) {
          try {
            syncOne(upstream, r.identity(), r);
          } catch (RuntimeException e) {
            if (strict) {
              throw e;
            }
            log.warn("relay {}: {} is not relayed: {}", key.serverId(), r.identity(),
                e.getMessage());
          }
        }
      });
    }
  }

  /** An object {@code upstream} announced: relayed as the attachment holds it now. */
  private void sync(Attachment upstream, String identity) {
    synchronized (lock) {
      if (closed || upstream != current || identity == null) {
        return;
      }
      try {
        syncOne(upstream, identity, upstream.objects().get(identity));
      } catch (RuntimeException e) {
        log.warn("relay {}: {} is not relayed: {}", key.serverId(), identity, e.getMessage());
      }
    }
  }

  /**
   * Makes downstream's {@code identity} follow {@code r} (null: the upstream no longer publishes
   * it): unpublished, published, or rebound to a new upstream object whose state, if its version
   * differs, is pushed downstream.
   */
  @GuardedBy("lock")
  private void syncOne(Attachment upstream, String identity, RemotePublished r) {
    RelayedPublishable p = relayed.get(identity);
    if (r == null || r.isUnpublished()) {
      if (p != null) {
        relayed.remove(identity);
        p.source().forwardChanges(null);
        downstream.unpublish(identity);
      }
      return;
    }
    if (p != null && p.source() == r) {
      return;
    }
    Class<? extends Cacheable> as = sentAs(r.getClass());
    if (p != null && p.sentAs() != as) {
      relayed.remove(identity);    // the upstream now publishes another class under it
      p.source().forwardChanges(null);
      downstream.unpublish(identity);
      p = null;
    }
    if (p == null) {
      WireState first = r.currentState();
      if (first == null) {
        throw new IllegalStateException(
            "Relay: " + identity + " was activated on this connection before the relay attached,"
                + " without its state; give the relay a connection of its own");
      }
      p = new RelayedPublishable(first, as);
      bind(upstream, r, p);
      relayed.put(identity, p);
      downstream.publish(p);
    } else {
      RemotePublished old = p.source();
      if (old != null) {
        old.forwardChanges(null);
      }
      bind(upstream, r, p);
    }
  }

  /** {@code p} follows {@code r}'s changes from now on, starting with the state it holds now. */
  private static void bind(Attachment upstream, RemotePublished r, RelayedPublishable p) {
    p.bind(r);
    r.forwardChanges((from, version, method, args, now) -> {
      if (p.changed(r, from, version, method, args, now)) {
        fetch(upstream, r, p);
      }
    });
  }

  /**
   * Fetches the whole state of an object whose class could not encode it after a delta, so the
   * relay never serves a state under a version it does not hold. One fetch at a time per object.
   */
  private static void fetch(Attachment upstream, RemotePublished r, RelayedPublishable p) {
    String id = r.identity();
    upstream.endpoint().callRemote(List.class, "fetch", (Object) new String[] {id})
        .whenComplete((states, failure) -> {
          WireState w = failure == null && states != null && states.size() == 1
              && states.get(0) instanceof WireState s && id.equals(s.identity()) ? s : null;
          if (p.fetched(r, w)) {
            fetch(upstream, r, p);
          }
        });
  }

  /** Re-attaches when {@code upstream}'s connection closes (at once if it is closed already). */
  private void watch(Attachment upstream) {
    upstream.endpoint().connection().onClose(cause -> {
      synchronized (lock) {
        if (closed || upstream != current) {
          return;
        }
      }
      log.info("relay {}: lost the upstream {}/{} ({}); serving what it holds and reconnecting",
          key.serverId(), upstream.serverId(), upstream.service(), cause);
      schedule(1);
    });
  }

  /** Schedules reconnection attempt {@code attempt} (from 1) after its backoff. */
  private void schedule(int attempt) {
    Duration delay = backoff(reconnect, attempt, random);
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (timer == null) {
        timer = new ScheduledThreadPoolExecutor(1, r -> {
          Thread t = new Thread(r, "pbj-relay-reconnect");
          t.setDaemon(true);
          return t;
        });
        // No thread while nothing is scheduled: a relay that never loses its upstream has none.
        timer.setKeepAliveTime(1, TimeUnit.SECONDS);
        timer.allowCoreThreadTimeOut(true);
        timer.setRemoveOnCancelPolicy(true);
      }
      try {
        timer.schedule(() -> reattach(attempt), delay.toNanos(), TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        log.debug("relay {}: reconnection not scheduled: {}", key.serverId(), e.toString());
      }
    }
  }

  /** One reconnection attempt: a new endpoint, an attach, then the switch; else the next try. */
  private void reattach(int attempt) {
    Supplier<? extends CompletionStage<RemoteReference>> c;
    String service;
    synchronized (lock) {
      if (closed) {
        return;
      }
      c = connector;
      service = serviceName;
    }
    AtomicReference<RemoteReference> endpoint = new AtomicReference<>();
    CompletableFuture<Attachment> attached;
    try {
      attached = c.get().toCompletableFuture().thenCompose(e -> {
        endpoint.set(e);
        return upstreamClient.attach(e, service);
      });
    } catch (RuntimeException e) {
      attached = CompletableFuture.failedFuture(e);
    }
    attached.whenComplete((upstream, failure) -> {
      if (failure == null) {
        try {
          switchTo(upstream, false);
          reattached.incrementAndGet();
          log.info("relay {}: re-attached to {}/{} (attempt {}): {}", key.serverId(),
              upstream.serverId(), upstream.service(), attempt, upstream);
          watch(upstream);
          return;
        } catch (RuntimeException e) {
          releaseAll(upstream);
          failure = e;
        }
      }
      RemoteReference e = endpoint.get();
      if (e != null && e.connection().isOpen()) {
        e.connection().close();    // not attached over it: nobody else uses it
      }
      boolean stop;
      synchronized (lock) {
        stop = closed;
      }
      if (!stop) {
        log.info("relay {}: reconnection attempt {} failed: {}", key.serverId(), attempt,
            PbException.unwrap(failure).toString());
        schedule(attempt + 1);
      }
    });
  }

  /**
   * The delay before reconnection attempt {@code attempt} (from 1), as {@link ReconnectPolicy}
   * defines it: {@code min(maxDelay, initialDelay * multiplier^(attempt - 1))}, shortened by a
   * random fraction of up to {@code jitter} of itself.
   */
  static Duration backoff(ReconnectPolicy policy, int attempt, Random random) {
    double base = policy.initialDelay().toNanos() * Math.pow(policy.multiplier(), attempt - 1.0);
    double capped = Math.min(policy.maxDelay().toNanos(), base);
    double jittered = capped * (1.0 - policy.jitter() * random.nextDouble());
    return Duration.ofNanos(Math.max(1L, (long) jittered));
  }

  /**
   * What proves the origin's id downstream: this relay's key with the upstream's chain and the
   * delegation it granted, checked here; null (serve unproven) when there is none.
   */
  private IdProof.Prover prover(Attachment upstream) {
    ServerProof proof = upstream.proof();
    Delegation granted = upstream.granted();
    String why = null;
    if (proof == null) {
      why = "the upstream did not prove the origin's id";
    } else if (granted == null) {
      why = "the upstream did not delegate to this relay (the upstream service lets a perspective"
          + " relay with delegateToRelays)";
    } else {
      List<Delegation> chain = new ArrayList<>(proof.chain());
      byte[] issuer =
          chain.isEmpty() ? proof.originKey() : chain.get(chain.size() - 1).subjectKey();
      chain.add(granted);
      long expiresAt = Long.MAX_VALUE;
      for (Delegation d : chain) {
        expiresAt = Math.min(expiresAt, d.expiresAt());
      }
      byte[] mine = key.encodedPublicKey();
      if (chain.size() > IdProof.MAX_CHAIN) {
        why = "the chain of delegations would be " + chain.size() + " long, more than "
            + IdProof.MAX_CHAIN;
      } else if (!java.util.Arrays.equals(granted.subjectKey(), mine)
          || !IdProof.verifies(IdProof.decodePublicKey(issuer), IdProof.delegationStatement(
              upstream.serverId(), upstream.service(), upstream.perspectiveKey(), mine,
              granted.expiresAt()), granted.signature())) {
        why = "the delegation the upstream granted is not valid for this relay's key";
      } else {
        return new IdProof.Prover(proof.originKey(), key.privateKey(), List.copyOf(chain),
            expiresAt);
      }
    }
    log.warn("relay {} serves {}/{} unproven: {}; its clients refuse it unless they allow"
        + " unproven ids", key.serverId(), upstream.serverId(), upstream.service(), why);
    return null;
  }

  /** The registered Cacheable class whose RemotePublished class {@code type} is. */
  private Class<? extends Cacheable> sentAs(Class<?> type) {
    return sentAs.computeIfAbsent(type, this::cacheableFor);
  }

  private Class<? extends Cacheable> cacheableFor(Class<?> type) {
    Class<? extends Cacheable> found = null;
    for (PbRegistry.CacheType t : registry.cacheTypes().values()) {
      if (t.remoteCache() == type) {
        if (t.cacheable() == null) {
          throw new IllegalStateException(
              "Relay: " + type.getName() + " is registered without its Publishable class; a"
                  + " relay re-publishes, so register both (registerCache(name, publishable,"
                  + " remotePublished))");
        }
        if (found != null) {
          throw new IllegalStateException(
              "Relay: " + type.getName() + " is registered for both " + found.getName() + " and "
                  + t.cacheable().getName() + "; a relay cannot tell which to re-publish as");
        }
        found = t.cacheable();
      }
    }
    if (found == null) {
      throw new IllegalStateException(
          "Relay: " + type.getName() + " is not registered in the relay's registry; give the relay"
              + " the registry the origin and its clients use");
    }
    return found;
  }

  /** The downstream service: serve it with {@code rootFactory(relay.service()::endpoint)}. */
  public PublishingService service() {
    synchronized (lock) {
      if (downstream == null) {
        throw notAttached();
      }
      return downstream;
    }
  }

  /**
   * What the current upstream attach activated, and what it cost (after a re-attach, the
   * re-attach's).
   */
  public Attachment upstream() {
    synchronized (lock) {
      if (current == null) {
        throw notAttached();
      }
      return current;
    }
  }

  /** Re-attaches upstream since the first attach. */
  int reattached() {
    return reattached.get();
  }

  /** Whether the reconnect thread is running now (tests). */
  boolean reconnectThreadAlive() {
    synchronized (lock) {
      return timer != null && !timer.isTerminated() && timer.getPoolSize() > 0;
    }
  }

  private static IllegalStateException notAttached() {
    return new IllegalStateException("the Relay has not attached yet: call attach first");
  }

  private static void releaseAll(Attachment upstream) {
    for (RemotePublished r : upstream.objects().values()) {
      r.forwardChanges(null);
      if (r.isConnected()) {
        r.release();
      }
    }
  }

  /**
   * Stops relaying updates and stops reconnecting (a pending attempt is cancelled and the
   * reconnect thread ends): releases the upstream objects (the upstream server stops observing).
   * The downstream service keeps serving the states it holds. Idempotent.
   */
  @Override
  public void close() {
    Attachment a;
    ScheduledThreadPoolExecutor t;
    synchronized (lock) {
      closed = true;
      a = current;
      t = timer;
    }
    if (t != null) {
      t.shutdownNow();
    }
    if (a != null) {
      releaseAll(a);
    }
  }

  /** Builds a {@link Relay}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private PbRegistry registry;
    private PublishedClient.Builder upstream;
    private Predicate<Object> mayRelay;
    private Clock clock;
    private ReconnectPolicy reconnect;

    private Builder() {}

    /**
     * Lets the relay's own clients whose perspective {@code mayRelay} accepts relay further, with
     * a delegation from this relay (at most {@value Relay#MAX_DEPTH} relays deep, and never
     * longer than this relay's own delegation). Default: none may.
     */
    public Builder delegateToRelays(Predicate<Object> mayRelay) {
      Builders.requireUnset("Relay.Builder", "delegateToRelays", this.mayRelay);
      this.mayRelay = Objects.requireNonNull(mayRelay, "mayRelay");
      return this;
    }

    /**
     * The backoff between reconnection attempts of a relay attached with {@link
     * Relay#attach(Supplier, String)}: exponential with jitter, capped. Default {@link
     * ReconnectPolicy#defaults()} (200 ms doubling up to 30 s, jitter 0.2).
     */
    public Builder reconnect(ReconnectPolicy policy) {
      Builders.requireUnset("Relay.Builder", "reconnect", this.reconnect);
      this.reconnect = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** The clock its delegations are dated and checked by (tests). */
    Builder clock(Clock clock) {
      Builders.requireUnset("Relay.Builder", "clock", this.clock);
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** The registry the origin and the clients use (required): it says what to re-publish as. */
    public Builder registry(PbRegistry registry) {
      Builders.requireUnset("Relay.Builder", "registry", this.registry);
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * How the relay attaches upstream (required): a {@link PublishedClient} builder with the
     * relay's own store, the origin's server id, and any other option (mode, perspective key,
     * progress); the relay builds it.
     */
    public Builder upstream(PublishedClient.Builder client) {
      Builders.requireUnset("Relay.Builder", "upstream", this.upstream);
      this.upstream = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * Builds the relay.
     *
     * @throws IllegalStateException if the registry or the upstream client is missing, or the
     *     upstream client's builder refuses its options
     */
    public Relay build() {
      if (registry == null) {
        throw new IllegalStateException("Relay.Builder needs a registry");
      }
      if (upstream == null) {
        throw new IllegalStateException(
            "Relay.Builder needs upstream(PublishedClient.builder().store(...)...)");
      }
      return new Relay(this);
    }
  }
}
