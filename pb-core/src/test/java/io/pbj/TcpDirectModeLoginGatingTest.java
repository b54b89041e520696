package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pbj.cred.Avatar;
import io.pbj.cred.PasswordChecker;
import io.pbj.cred.Portal;
import io.pbj.internal.TestAccess;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Login gating holds for {@link Remote#direct()} methods: before login only the login root is
 * reachable, so a peer that guesses the ids of objects it was never given cannot reach a direct
 * method, on the event loop or anywhere else.
 */
class TcpDirectModeLoginGatingTest extends AbstractPbTest {
  private static final PbRegistry REGISTRY = PbRegistry.defaults();

  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }

  /** A logged-in user's avatar, with a direct method. */
  public static final class Player implements Referenceable {
    static final AtomicInteger CALLED = new AtomicInteger();

    @Remote(direct = true)
    public String secret() {
      CALLED.incrementAndGet();
      return "secret";
    }
  }

  @Test
  void directMethodsOfObjectsNotGivenToThePeerCannotBeCalledBeforeLogin() {
    AtomicInteger avatars = new AtomicInteger();
    Portal portal =
        Portal.builder(
                (id, mind, connection) -> {
                  avatars.incrementAndGet();
                  return CompletableFuture.completedFuture(Avatar.of(new Player()));
                })
            .checker(PasswordChecker.builder().user("alice", "secret").build())
            .build();
    PbServer server =
        cleanup.register(
            serverBuilder().registry(REGISTRY).rootFactory(portal::root).build().start());
    int guesses = 20;
    try (RawPeer peer = new RawPeer(server.localAddress())) {
      peer.send(TestAccess.preambleAndHello(REGISTRY));
      for (int id = 1; id <= guesses; id++) {
        peer.send(TestAccess.callOn(REGISTRY, id, id, "secret"));
      }
      peer.send(TestAccess.call(REGISTRY, guesses + 1, "secret"));
      await()
          .atMost(WAIT)
          .until(
              () ->
                  TestAccess.messages(peer.received(), REGISTRY).stream()
                          .filter(line -> line.startsWith("ERROR") || line.startsWith("ANSWER"))
                          .count()
                      == guesses + 1);
      List<String> lines = TestAccess.messages(peer.received(), REGISTRY);
      for (int id = 1; id <= guesses; id++) {
        String prefix = "ERROR " + id + " NO_SUCH_OBJECT";
        assertThat(lines).as("guess #%d", id).anyMatch(line -> line.startsWith(prefix));
      }
      assertThat(lines)
          .as("the login root has no such method")
          .anyMatch(line -> line.startsWith("ERROR " + (guesses + 1) + " NO_SUCH_METHOD"));
    }
    assertThat(avatars).hasValue(0);
    assertThat(Player.CALLED).hasValue(0);
  }
}
