package io.pbj.publish;

import io.pbj.Cacheable;
import io.pbj.PbRegistry;
import io.pbj.RemoteReference;
import io.pbj.publish.internal.Builders;
import io.pbj.publish.internal.Delegation;
import io.pbj.publish.internal.ServerProof;
import io.pbj.publish.internal.WireState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A client of an upstream publishing server that re-publishes one of its services to its own
 * clients, with the <em>origin's</em> server id, identities and versions: a client's cache stays
 * valid whether it connects to the origin directly or through any relay. The relay keeps its own
 * {@link SnapshotStore}, so it reactivates from it (only stale objects transfer from upstream),
 * forwards every upstream update downstream, and answers its clients' reactivation from what it
 * holds. Relays stack: a relay's upstream may be another relay.
 *
 * <pre>{@code
 * Relay relay = Relay.builder()
 *     .registry(registry)                 // the registry the origin and the clients use
 *     .upstream(PublishedClient.builder()
 *         .store(relayStore)              // the relay's own store
 *         .expectedServerId(originId))    // the origin's id, as its server prints it
 *     .build();
 * // at the origin: PublishingService.builder()...delegateToRelays(p -> p instanceof RelayAccount)
 * relay.attach(upstream.rootObject().join(), "world").join();
 * PbServer downstream = PbServer.builder().port(7001).registry(registry)
 *     .rootFactory(relay.service()::endpoint).build().start();
 * }</pre>
 *
 * <p>A relay cannot sign as the origin: it proves the origin's id to its own clients with a
 * <em>delegation</em>. Each relay has a key pair of its own (made when it is built) and sends its
 * public key with its upstream attach; an upstream service that lets the relay's perspective
 * relay ({@link PublishingService.Builder#delegateToRelays}) answers with a certificate, signed by
 * the upstream's key, for the relay's key, the origin's id, the service and the relay's
 * perspective key, valid until an expiry. The relay's attach answers downstream carry the chain
 * of certificates from the origin to its key and its own signature over the client's nonce;
 * clients check the chain back to the origin's id. Relays stack up to {@value
 * #MAX_DEPTH} deep; a relay delegates further only to the perspectives its own {@link
 * Builder#delegateToRelays} accepts. A relay without a delegation (or whose upstream proved
 * nothing) serves unproven: its clients refuse it unless they allow unproven ids. When the
 * certificate expires, the relay's answers stop carrying a proof (and its clients refuse them)
 * until a new relay attaches upstream and gets a fresh one.
 *
 * <p>Downstream, every connection sees what the relay's upstream perspective sees, and is named
 * by that perspective's key in store keys ({@link PublishingService.Builder#fixedPerspectiveKey}).
 * Objects the origin publishes after the relay attached are not relayed (attach a new relay). If
 * the upstream connection is lost, the relay goes on serving the states it holds, each still a
 * state the origin really had at its version.
 *
 * <p>Thread-safety: thread-safe.
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
  private final AtomicBoolean attaching = new AtomicBoolean();
  private final AtomicReference<State> state = new AtomicReference<>();

  private record State(Attachment upstream, PublishingService service) {}

  private Relay(Builder b) {
    this.registry = b.registry;
    this.mayRelay = b.mayRelay;
    this.clock = b.clock;
    this.upstreamClient = b.upstream.retainStates().relayKey(key).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Attaches to {@code service} upstream through {@code endpoint}, activates every object (from
   * the relay's store where the version matches), and publishes them downstream in {@link
   * #service()}. Completes with this relay; fails as {@link PublishedClient#attach} does, or with
   * {@link IllegalStateException} if a registered class is missing or ambiguous.
   *
   * @throws IllegalStateException if this relay attached before, or is attaching (a failed
   *     attach releases what it got upstream and may be tried again)
   */
  public CompletableFuture<Relay> attach(RemoteReference endpoint, String service) {
    if (!attaching.compareAndSet(false, true)) {
      throw new IllegalStateException(
          "this Relay already attached (or is attaching); a relay serves one upstream");
    }
    return upstreamClient
        .attach(endpoint, service)
        .thenApply(
            upstream -> {
              try {
                return publish(upstream);
              } catch (RuntimeException e) {
                for (RemotePublished r : upstream.objects().values()) {
                  if (r.isConnected()) {
                    r.release();
                  }
                }
                throw e;
              }
            })
        .whenComplete((relay, failure) -> {
          if (failure != null) {
            attaching.set(false);    // nothing is relayed: the relay may attach again
          }
        });
  }

  private Relay publish(Attachment upstream) {
    PublishingService.Builder b = PublishingService.builder()
        .relayOf(upstream.serverId(), prover(upstream))
        .service(upstream.service())
        .fixedPerspectiveKey(upstream.perspectiveKey());
    if (mayRelay != null) {
      b.delegateToRelays(mayRelay);
    }
    if (clock != null) {
      b.clock(clock);
    }
    PublishingService downstream = b.build();
    Map<Class<?>, Class<? extends Cacheable>> sentAs = new HashMap<>();
    List<RelayedPublishable> relayed = new ArrayList<>(upstream.objects().size());
    for (RemotePublished r : upstream.objects().values()) {
      relayed.add(relay(r, sentAs.computeIfAbsent(r.getClass(), this::cacheableFor)));
    }
    downstream.publishAll(relayed);
    state.set(new State(upstream, downstream));
    return this;
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

  private static RelayedPublishable relay(RemotePublished r, Class<? extends Cacheable> sentAs) {
    AtomicReference<RelayedPublishable> holder = new AtomicReference<>();
    r.onUpdate(u -> {
      RelayedPublishable p = holder.get();
      if (p != null) {
        p.refresh(r.currentState());
      }
    });
    WireState first = r.currentState();
    if (first == null) {
      throw new IllegalStateException(
          "Relay: " + r.identity() + " was activated on this connection before the relay attached,"
              + " without its bytes; give the relay a connection of its own");
    }
    RelayedPublishable p = new RelayedPublishable(first, sentAs);
    holder.set(p);
    p.refresh(r.currentState());    // an update applied before the holder was set
    return p;
  }

  /** The registered Cacheable class whose RemotePublished class {@code type} is. */
  private Class<? extends Cacheable> cacheableFor(Class<?> type) {
    Class<? extends Cacheable> found = null;
    for (PbRegistry.CacheType t : registry.cacheTypes().values()) {
      if (t.remoteCache() == type) {
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
    return attached().service();
  }

  /** What the upstream attach activated, and what it cost. */
  public Attachment upstream() {
    return attached().upstream();
  }

  private State attached() {
    State s = state.get();
    if (s == null) {
      throw new IllegalStateException("the Relay has not attached yet: call attach first");
    }
    return s;
  }

  /**
   * Stops relaying updates: releases the upstream objects (the upstream server stops observing).
   * The downstream service keeps serving the states it holds. Idempotent.
   */
  @Override
  public void close() {
    State s = state.get();
    if (s != null) {
      for (RemotePublished r : s.upstream().objects().values()) {
        if (r.isConnected()) {
          r.release();
        }
      }
    }
  }

  /** Builds a {@link Relay}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private PbRegistry registry;
    private PublishedClient.Builder upstream;
    private Predicate<Object> mayRelay;
    private Clock clock;

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
