package io.pbj.publish;

import com.google.errorprone.annotations.concurrent.GuardedBy;
import io.pbj.PbClient;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.RemoteReference;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.publish.internal.Builders;
import io.pbj.store.Snapshot;
import io.pbj.store.SnapshotKey;
import io.pbj.store.SnapshotStore;
import java.lang.ref.WeakReference;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Resolves {@link PbUrl pb:// references} to activated published objects: connects to the
 * reference's host and port (or reuses the connection it already has there), logs in with the
 * credentials given, checks that the server's id is the reference's and that the server proves
 * it (see {@link PublishedClient}), attaches to the one object (from the local store when its
 * version is the server's) and answers it.
 *
 * <pre>{@code
 * try (PublishedResolver resolver = PublishedResolver.builder()
 *     .registry(registry).store(store).build()) {
 *   TileCache tile = resolver.resolve(
 *       PbUrl.parse("pb://" + serverId + "@game.example.com:7000/world/c:12:7"), null,
 *       TileCache.class)
 *       .join();
 *   Optional<Snapshot> offline = resolver.readOffline(url, null);   // never connects
 * }
 * }</pre>
 *
 * <p>Where the endpoint is found: without credentials, the server's root object is the publishing
 * endpoint ({@code rootFactory(service::endpoint)}); with credentials, the client logs in through
 * the server's {@code Portal} and the avatar answers the endpoint from a {@code @Remote} method
 * named {@value #ENDPOINT_METHOD} taking the service name ({@code return
 * service.endpoint(connection);}). The store key's perspective part is {@link
 * PublishingService#loggedInKey loggedInKey(user name)} of the credentials, which is what a
 * server whose {@code perspectiveKey} is the user name names, and {@value
 * PublishingService#ANONYMOUS} without credentials or with anonymous ones; so a user, whatever
 * the name ({@code "anonymous"} too), never reads an anonymous session's entries or the other
 * way round. Another scheme can be set with {@link Builder#perspectiveKey}. A server naming
 * another key still answers correctly, only without using the stored copy.
 *
 * <p>Connections are kept, one per host, port and {@link Credentials} (equal credentials share
 * one: same user and password, or both anonymous; a wrong password logs in on a connection of
 * its own, which is dropped when the login fails), until {@link #close()}; a lost one is
 * replaced by the next resolve.
 *
 * <p>Origin clusters: after each attach the resolver asks the server for the members of its
 * cluster ({@link PublishingService.Builder#members}, see {@link
 * PublishedClient.Builder#learnMembers}). When a connection to a member is lost, the next resolve
 * through that reference's host and port connects to the next member instead, trying each once
 * (the lost one last), and re-attaches there from the store; the objects resolved through the
 * lost connection stay disconnected, as before: resolve them again.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PublishedResolver implements AutoCloseable {
  /** The avatar method that answers the publishing endpoint of a service. */
  public static final String ENDPOINT_METHOD = "publishingEndpoint";

  private final PbRegistry registry;
  private final SnapshotStore store;
  private final PublishedClient.Mode mode;
  private final Function<Credentials, String> perspectiveKey;
  private final Consumer<PbClient.Builder> clientOptions;
  private final boolean allowUnproven;
  @GuardedBy("this")
  private final Map<SessionKey, Session> sessions = new HashMap<>();
  @GuardedBy("this")
  private boolean closed;
  /**
   * The members learned for a reference's {@code host:port}, the next to try first, kept when a
   * session is dropped so that its replacement dials another member.
   */
  @GuardedBy("this")
  private final Map<String, List<InetSocketAddress>> memberLists = new HashMap<>();

  private PublishedResolver(Builder b) {
    this.registry = b.registry;
    this.store = b.store;
    this.mode = b.mode == null ? PublishedClient.Mode.INVENTORY : b.mode;
    this.perspectiveKey = b.perspectiveKey != null ? b.perspectiveKey
        : c -> c == null || c.isAnonymous() ? PublishingService.ANONYMOUS
            : PublishingService.loggedInKey(c.username().orElseThrow());
    this.clientOptions = b.clientOptions;
    this.allowUnproven = b.allowUnproven;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Resolves {@code url} to its activated object. Completes on the connection's executor; fails
   * with a {@link PublishException}: {@link PbException.Code#CONNECT_FAILED} or {@link
   * PbException.Code#CONNECTION_LOST} when the server cannot be reached or closes the connection,
   * {@link PbException.Code#SERVER_ID_MISMATCH} when the server there is another one, {@link
   * PbException.Code#SERVER_ID_NOT_PROVEN} when it does not prove the reference's id, {@link
   * PbException.Code#NO_SUCH_OBJECT} or {@link PbException.Code#NO_SUCH_SERVICE} when it
   * publishes no such thing; or with the login's {@link PbException} ({@code UNAUTHORIZED}).
   *
   * @param credentials null to use the root object without logging in
   */
  public CompletableFuture<RemotePublished> resolve(PbUrl url, Credentials credentials) {
    Objects.requireNonNull(url, "url");
    Session session = session(url, credentials);
    PublishedClient.Builder cb = PublishedClient.builder()
        .store(store)
        .mode(mode)
        .expectedServerId(url.serverId())
        .perspectiveKey(perspectiveKeyOf(credentials))
        .learnMembers(session.client);
    if (allowUnproven) {
      cb.allowUnprovenServerIds();
    }
    PublishedClient client = cb.build();
    RemotePublished known = session.resolved(url);
    if (known != null) {
      // Already live on this connection, kept current by pushes: sending it again would only
      // resend its whole state.
      return CompletableFuture.completedFuture(known);
    }
    return session
        .endpoint(url.service())
        .thenCompose(endpoint -> session.serially(() -> session.attachTo(client, endpoint, url)))
        .handle((attachment, failure) -> {
          if (failure != null) {
            Throwable cause = PbException.unwrap(failure);
            session.dropIfDead();
            if (cause instanceof PbException p && (p.code() == PbException.Code.CONNECT_FAILED
                || p.code() == PbException.Code.CONNECTION_LOST)) {
              throw new PublishException(
                  p.code(),
                  "could not resolve " + url + ": " + url.host() + ":" + url.port() + " "
                      + (p.code() == PbException.Code.CONNECT_FAILED ? "is unreachable"
                          : "closed the connection") + " (" + p.getMessage() + ")",
                  p);
            }
            throw cause instanceof RuntimeException r ? r : new CompletionException(cause);
          }
          RemotePublished r = attachment.objects().get(url.identity());
          if (r == null) {
            throw new PublishException(PbException.Code.NO_SUCH_OBJECT, "service "
                + url.serverId() + "/" + url.service() + " publishes no object " + url.identity());
          }
          session.remember(url, r);
          return r;
        });
  }

  /** Resolves {@code url} as {@link #resolve(PbUrl, Credentials)} and casts it to {@code type}. */
  public <T extends RemotePublished> CompletableFuture<T> resolve(
      PbUrl url, Credentials credentials, Class<T> type) {
    Objects.requireNonNull(type, "type");
    return resolve(url, credentials).thenApply(r -> {
      if (!type.isInstance(r)) {
        throw new PublishException(PbException.Code.PROTOCOL_ERROR,
            url + " is a " + r.getClass().getName() + ", not a " + type.getName());
      }
      return type.cast(r);
    });
  }

  /**
   * The snapshot stored for {@code url} and these credentials' perspective, without connecting:
   * for a client offline. It is the state the origin had at the snapshot's version, which may no
   * longer be the newest.
   */
  public Optional<Snapshot> readOffline(PbUrl url, Credentials credentials) {
    Objects.requireNonNull(url, "url");
    return store.get(new SnapshotKey(
        url.serverId(), url.service(), perspectiveKeyOf(credentials), url.identity()));
  }

  private String perspectiveKeyOf(Credentials credentials) {
    String key = perspectiveKey.apply(credentials);
    if (key == null || key.isEmpty()) {
      throw new IllegalStateException("PublishedResolver.perspectiveKey gave no key for "
          + credentials);
    }
    return key;
  }

  private synchronized Session session(PbUrl url, Credentials credentials) {
    if (closed) {
      throw new IllegalStateException("PublishedResolver is closed");
    }
    SessionKey key = new SessionKey(url.host(), url.port(), credentials);
    Session s = sessions.get(key);
    if (s == null || s.isDead()) {
      if (s != null) {
        rememberMembers(s);
        s.client.shutdown();
      }
      s = new Session(key, url, credentials, memberLists.get(hostPort(url.host(), url.port())));
      sessions.put(key, s);
    }
    return s;
  }

  private synchronized void forget(Session s) {
    rememberMembers(s);
    sessions.remove(s.key, s);
  }

  private static String hostPort(String host, int port) {
    return host.toLowerCase(java.util.Locale.ROOT) + " " + port;
  }

  /**
   * Keeps the members a dropped session's client learned, starting after the address it was
   * connected to, so that the next session for the same host and port tries that one last.
   */
  @GuardedBy("this")
  private void rememberMembers(Session s) {
    List<InetSocketAddress> known = s.client.addresses();
    if (known.size() < 2) {
      return;
    }
    SocketAddress lost = s.client.currentAddress();
    int at = -1;
    for (int i = 0; i < known.size(); i++) {
      InetSocketAddress a = known.get(i);
      if (lost instanceof InetSocketAddress l && l.getPort() == a.getPort()
          && l.getHostString().equalsIgnoreCase(a.getHostString())) {
        at = i;
        break;
      }
    }
    List<InetSocketAddress> next = new ArrayList<>(known.size());
    for (int i = 1; i <= known.size(); i++) {
      next.add(known.get((at + i) % known.size()));
    }
    memberLists.put(hostPort(s.key.host(), s.key.port()), List.copyOf(next));
  }

  /** The addresses the live session for {@code url} and no credentials dials (tests). */
  synchronized List<InetSocketAddress> addressesOf(PbUrl url) {
    Session s = sessions.get(new SessionKey(url.host(), url.port(), null));
    return s == null ? List.of() : s.client.addresses();
  }

  /** Closes every connection the resolver opened. Objects resolved through them disconnect. */
  @Override
  public void close() {
    List<Session> all;
    synchronized (this) {
      closed = true;
      all = new ArrayList<>(sessions.values());
      sessions.clear();
    }
    for (Session s : all) {
      s.client.close();
    }
  }


  /** A session is reused for equal credentials (same user and password, or both anonymous). */
  private record SessionKey(String host, int port, Credentials credentials) {}

  /** One connection, logged in with one credentials object, and the endpoints reached through it. */
  private final class Session {
    final SessionKey key;
    final PbClient client;
    final CompletableFuture<RemoteReference> loggedIn;
    final boolean login;
    @GuardedBy("this")
    private final Map<String, CompletableFuture<RemoteReference>> endpoints = new HashMap<>();
    @GuardedBy("this")
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
    @GuardedBy("this")
    private final Map<String, WeakReference<RemotePublished>> resolved = new HashMap<>();
    /** One live attachment per service on this connection, grown by each resolve. */
    @GuardedBy("this")
    private final Map<String, CompletableFuture<Attachment>> attachments = new HashMap<>();

    /** @param members the members to dial, the first first; null: the reference's address */
    Session(
        SessionKey key, PbUrl url, Credentials credentials, List<InetSocketAddress> members) {
      this.key = key;
      PbClient.Builder b = PbClient.builder().registry(registry);
      if (members != null) {
        b.addresses(members);    // without a reconnect policy, each is tried once
      } else {
        b.address(url.host(), url.port());
      }
      if (clientOptions != null) {
        clientOptions.accept(b);
      }
      this.client = b.build();
      this.login = credentials != null;
      CompletableFuture<RemoteReference> root = client.rootObject();
      // The avatar is kept here for as long as the session: dropping it would log out.
      this.loggedIn = credentials == null ? root
          : root.thenCompose(r -> Login.login(r, credentials, null));
    }

    synchronized CompletableFuture<RemoteReference> endpoint(String service) {
      CompletableFuture<RemoteReference> known = endpoints.get(service);
      if (known != null && known.isCompletedExceptionally()) {
        endpoints.remove(service);     // ask again: the failure may have been the service's
      }
      return endpoints.computeIfAbsent(service, s -> loggedIn.thenCompose(avatar ->
          login
              ? avatar.callRemote(RemoteReference.class, ENDPOINT_METHOD, s)
              : CompletableFuture.completedFuture(avatar)));
    }

    /**
     * The live attachment to {@code url}'s service on this connection, grown by {@code url}'s
     * object: the first resolve of a service attaches to its object, later ones add theirs to
     * that attachment (one call each), so every resolved object of the service is told when it
     * is unpublished. Runs serially.
     */
    CompletableFuture<Attachment> attachTo(
        PublishedClient client, RemoteReference endpoint, PbUrl url) {
      CompletableFuture<Attachment> live;
      synchronized (this) {
        live = attachments.get(url.service());
        if (live != null && (live.isCompletedExceptionally() || !endpoint.isConnected())) {
          attachments.remove(url.service());
          live = null;
        }
      }
      if (live == null) {
        CompletableFuture<Attachment> made =
            client.attach(endpoint, url.service(), List.of(url.identity()));
        synchronized (this) {
          attachments.put(url.service(), made);
        }
        return made;
      }
      return live.thenCompose(a -> a.add(List.of(url.identity())).thenApply(added -> a));
    }

    /** The object {@code url} resolved to on this connection, if it is still live there. */
    synchronized RemotePublished resolved(PbUrl url) {
      WeakReference<RemotePublished> ref = resolved.get(url.service() + '\u0000' + url.identity());
      RemotePublished r = ref == null ? null : ref.get();
      if (r != null && r.isActivated() && r.isConnected() && !r.isUnpublished()) {
        return r;
      }
      resolved.values().removeIf(w -> w.get() == null);
      return null;
    }

    synchronized void remember(PbUrl url, RemotePublished r) {
      resolved.put(url.service() + '\u0000' + url.identity(), new WeakReference<>(r));
    }

    /**
     * Runs attaches on this connection one after another (the server keeps one inventory and one
     * live attachment per connection).
     */
    synchronized <T> CompletableFuture<T> serially(
        Supplier<CompletableFuture<T>> next) {
      CompletableFuture<T> run = tail.handle((x, e) -> null).thenCompose(x -> next.get());
      tail = run;
      return run;
    }

    boolean isDead() {
      CompletableFuture<RemoteReference> l = loggedIn;
      if (l.isCompletedExceptionally()) {
        return true;
      }
      RemoteReference r = l.getNow(null);
      return r != null && !r.connection().isOpen();
    }

    /** Forgets this session if its connection or login failed: the next resolve starts anew. */
    void dropIfDead() {
      if (isDead()) {
        forget(this);
        client.shutdown();    // not close(): this may run on the client's own executor
      }
    }
  }

  /** Builds a {@link PublishedResolver}. Thread-safety: not thread-safe; use from one thread. */
  public static final class Builder {
    private PbRegistry registry;
    private SnapshotStore store;
    private PublishedClient.Mode mode;
    private Function<Credentials, String> perspectiveKey;
    private Consumer<PbClient.Builder> clientOptions;
    private boolean allowUnproven;

    private Builder() {}

    /**
     * Accepts server ids that the server does not prove, as {@link
     * PublishedClient.Builder#allowUnprovenServerIds} does: for trusted networks only.
     */
    public Builder allowUnprovenServerIds() {
      if (allowUnproven) {
        throw new IllegalStateException(
            "PublishedResolver.Builder.allowUnprovenServerIds was already set");
      }
      allowUnproven = true;
      return this;
    }

    /** The registry of the servers resolved against (required; {@link Publishing#register}). */
    public Builder registry(PbRegistry registry) {
      once("registry", this.registry);
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The local store (required); the caller owns it and closes it. */
    public Builder store(SnapshotStore store) {
      once("store", this.store);
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The handshake; default {@link PublishedClient.Mode#INVENTORY}. */
    public Builder mode(PublishedClient.Mode mode) {
      once("mode", this.mode);
      this.mode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * The store key's perspective part for given credentials (null: no login). It must give
     * different keys to different perspectives, and never {@value PublishingService#ANONYMOUS} to
     * a logged-in user. Default: {@link PublishingService#loggedInKey loggedInKey(user name)}, or
     * {@value PublishingService#ANONYMOUS} for no or anonymous credentials.
     */
    public Builder perspectiveKey(Function<Credentials, String> function) {
      once("perspectiveKey", this.perspectiveKey);
      this.perspectiveKey = Objects.requireNonNull(function, "function");
      return this;
    }

    /**
     * More options for each connection's {@link PbClient.Builder} (TLS pins, executor, timeouts);
     * the resolver sets the address and the registry itself.
     */
    public Builder clientOptions(Consumer<PbClient.Builder> options) {
      once("clientOptions", this.clientOptions);
      this.clientOptions = Objects.requireNonNull(options, "options");
      return this;
    }

    /** Builds the resolver; it connects lazily. */
    public PublishedResolver build() {
      if (registry == null) {
        throw new IllegalStateException("PublishedResolver.Builder needs a registry");
      }
      if (store == null) {
        throw new IllegalStateException("PublishedResolver.Builder needs a store");
      }
      return new PublishedResolver(this);
    }

    private static void once(String option, Object current) {
      Builders.requireUnset("PublishedResolver.Builder", option, current);
    }
  }
}
