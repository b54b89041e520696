package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.cred.Avatar;
import io.pbj.cred.AvatarId;
import io.pbj.cred.Credentials;
import io.pbj.cred.Login;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.cred.Realm;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link CallContext}: one object shared by every connection tells its callers apart, over the
 * in-process transport.
 */
class CallContextTest extends AbstractPbTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }

  /** One endpoint exported to every connection. */
  static final class Shared implements Referenceable {
    final List<PbConnection> connected = new CopyOnWriteArrayList<>();
    final List<Optional<CallContext>> seenLater = new CopyOnWriteArrayList<>();

    /** Which connection (in the order they connected) the call came over, and its method. */
    @Remote
    public String whichConnection() {
      CallContext c = CallContext.current();
      return connected.indexOf(c.connection()) + " " + c.method();
    }

    @Remote("renamed")
    public String methodName() {
      return CallContext.current().method();
    }

    /** Reads the context in its synchronous part, then answers from another thread. */
    @Remote
    public CompletableFuture<String> later() {
      int index = connected.indexOf(CallContext.current().connection());
      return CompletableFuture.supplyAsync(
          () -> {
            seenLater.add(CallContext.find());
            return "connection " + index;
          });
    }
  }

  @Test
  void oneSharedObjectSeesEachCallersOwnConnection() throws Exception {
    Shared shared = new Shared();
    PbServer server =
        cleanup.register(
            serverBuilder().root(shared).onConnect(shared.connected::add).build().start());
    RemoteReference first = connect(server);
    RemoteReference second = connect(server);

    assertThat(get(first.callRemote(String.class, "whichConnection")))
        .isEqualTo("0 whichConnection");
    assertThat(get(second.callRemote(String.class, "whichConnection")))
        .isEqualTo("1 whichConnection");
    assertThat(get(first.callRemote(String.class, "whichConnection")))
        .isEqualTo("0 whichConnection");
  }

  @Test
  void methodIsTheRemoteName() throws Exception {
    PbServer server = cleanup.register(serverBuilder().root(new Shared()).build().start());
    assertThat(get(connect(server).callRemote(String.class, "renamed"))).isEqualTo("renamed");
  }

  @Test
  void anAsynchronousMethodSeesTheContextInItsSynchronousPartOnly() throws Exception {
    Shared shared = new Shared();
    PbServer server =
        cleanup.register(
            serverBuilder().root(shared).onConnect(shared.connected::add).build().start());
    connect(server);
    RemoteReference second = connect(server);

    assertThat(get(second.callRemote(String.class, "later"))).isEqualTo("connection 1");
    assertThat(shared.seenLater).containsExactly(Optional.empty());
  }

  @Test
  void currentOutsideACallFailsSayingWhere() {
    assertThatThrownBy(CallContext::current)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no remote call is running on this thread")
        .hasMessageContaining("synchronous part of a @Remote method");
  }

  @Test
  void findIsEmptyOnAPlainThread() throws Exception {
    assertThat(CallContext.find()).isEmpty();
    AtomicReference<Optional<CallContext>> other = new AtomicReference<>();
    Thread t = new Thread(() -> other.set(CallContext.find()));
    t.start();
    t.join();
    assertThat(other.get()).isEmpty();
  }

  // ---- login ----

  /** The avatar; asks the shared lobby who it is. */
  static final class User implements Referenceable {
    final String name;

    User(String name) {
      this.name = name;
    }

    @Remote
    public Lobby lobby() {
      return LOBBY;
    }

    @Remote
    public boolean perspectiveIsMe() {
      return CallContext.current().perspective() == this;
    }
  }

  static final Lobby LOBBY = new Lobby();

  /** Shared by every user; not a Viewable, yet sees who calls. */
  static final class Lobby implements Referenceable {
    @Remote
    public String whoAmI() {
      Object perspective = CallContext.current().perspective();
      return perspective instanceof User u ? u.name : String.valueOf(perspective);
    }
  }

  @Test
  void perspectiveIsTheAvatarTheConnectionLoggedInAs() throws Exception {
    Realm realm =
        (AvatarId id, RemoteReference mind, PbConnection connection) ->
            CompletableFuture.completedFuture(Avatar.of(new User(id.name())));
    Portal portal =
        Portal.builder(realm)
            .checker(PasswordChecker.builder().user("alice", "secret").user("bob", "hunter2").build())
            .build();
    PbServer server =
        cleanup.register(serverBuilder().rootFactory(portal::root).build().start());
    RemoteReference loginRoot = cleanup.register(clientBuilder(server).build()).rootObject().join();
    RemoteReference bobRoot = cleanup.register(clientBuilder(server).build()).rootObject().join();

    RemoteReference alice = get(Login.login(loginRoot, Credentials.password("alice", "secret"), null));
    RemoteReference bob = get(Login.login(bobRoot, Credentials.password("bob", "hunter2"), null));

    assertThat(get(alice.callRemote(Boolean.class, "perspectiveIsMe"))).isTrue();
    RemoteReference aliceLobby = get(alice.callRemote(RemoteReference.class, "lobby"));
    RemoteReference bobLobby = get(bob.callRemote(RemoteReference.class, "lobby"));
    assertThat(get(aliceLobby.callRemote(String.class, "whoAmI"))).isEqualTo("alice");
    assertThat(get(bobLobby.callRemote(String.class, "whoAmI"))).isEqualTo("bob");
  }

  @Test
  void perspectiveIsNullBeforeLogin() throws Exception {
    PbServer server = cleanup.register(serverBuilder().root(LOBBY).build().start());
    assertThat(get(connect(server).callRemote(String.class, "whoAmI"))).isEqualTo("null");
  }

  // ---- pushed updates ----

  /** Pushes one update to each observer as soon as it observes. */
  static final class Feed implements Cacheable {
    @Override
    public Object stateFor(Object perspective, RemoteObserver observer) {
      observer.callRemote("posted", "hello");
      return "state";
    }

    @Override
    public void stoppedObserving(Object perspective, RemoteObserver observer) {}
  }

  static final class FeedCache extends RemoteCache {
    final CompletableFuture<CallContext> seen = new CompletableFuture<>();

    @Override
    protected void setState(Object state) {}

    @Remote
    public void posted(String text) {
      seen.complete(CallContext.current());
    }
  }

  /** Hands out the feed. */
  static final class FeedRoot implements Referenceable {
    @Remote
    public Feed feed() {
      return new Feed();
    }
  }

  @Test
  void aPushedUpdateSeesTheConnectionItArrivedOn() throws Exception {
    PbRegistry registry = PbRegistry.builder().registerCache(Feed.class, FeedCache.class).build();
    PbServer server =
        cleanup.register(serverBuilder().registry(registry).root(new FeedRoot()).build().start());
    PbClient client = client(server, b -> b.registry(registry));
    FeedCache cache = get(get(client.rootObject()).callRemote(FeedCache.class, "feed"));

    CallContext context = get(cache.seen);
    assertThat(context.connection()).isSameAs(get(client.connection())).isSameAs(cache.connection());
    assertThat(context.method()).isEqualTo("posted");
    assertThat(context.perspective()).isNull();
  }
}
