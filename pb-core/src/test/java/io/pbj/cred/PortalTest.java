package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbCodec;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The portal's own contract, without a transport. */
class PortalTest {
  static final Realm REALM =
      (id, mind, connection) -> CompletableFuture.completedFuture(Avatar.of(new Referenceable() {}));

  @Test
  void rootRefusesAConnectionThatIsNotABrokerConnection() {
    Portal portal = Portal.builder(REALM).checker(AnonymousChecker.allow()).build();
    PbConnection foreign = new ForeignConnection();
    assertThatThrownBy(() -> portal.root(foreign))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Portal.root needs the PbConnection a PbServer passes")
        .hasMessageContaining(ForeignConnection.class.getName());
  }

  @Test
  void eachOptionCanBeSetOnceAndNamesItselfWhenSetTwice() {
    List<Consumer<Portal.Builder>> options =
        List.of(
            b -> b.maxFailedLogins(3),
            b -> b.accountThrottle(5, Duration.ofMinutes(1)),
            b -> b.addressThrottle(5, Duration.ofMinutes(1)),
            b -> b.failureDelay(Duration.ofMillis(1), Duration.ofSeconds(1)),
            b -> b.throttleCapacity(1024),
            b -> b.secret(new byte[16]));
    List<String> names =
        List.of(
            "maxFailedLogins",
            "accountThrottle",
            "addressThrottle",
            "failureDelay",
            "throttleCapacity",
            "secret");
    for (int i = 0; i < options.size(); i++) {
      Portal.Builder b = Portal.builder(REALM).checker(AnonymousChecker.allow());
      options.get(i).accept(b);
      Consumer<Portal.Builder> again = options.get(i);
      assertThatThrownBy(() -> again.accept(b))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("Portal.Builder." + names.get(i) + " was already set");
    }
  }

  @Test
  void badLimitsFailAtOnceNamingTheOptionAndTheValue() {
    Portal.Builder b = Portal.builder(REALM);
    assertThatThrownBy(() -> b.accountThrottle(0, Duration.ofMinutes(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Portal.Builder.accountThrottle")
        .hasMessageContaining("got 0");
    assertThatThrownBy(() -> b.addressThrottle(10, Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Portal.Builder.addressThrottle")
        .hasMessageContaining("PT0.01S");
    assertThatThrownBy(() -> b.failureDelay(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Portal.Builder.failureDelay")
        .hasMessageContaining("base PT2S, max PT1S");
    assertThatThrownBy(() -> b.failureDelay(Duration.ZERO, Duration.ofMinutes(2)))
        .hasMessageContaining("max PT2M");
    assertThatThrownBy(() -> b.throttleCapacity(8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Portal.Builder.throttleCapacity")
        .hasMessageContaining("got 8");
    assertThatThrownBy(() -> b.maxFailedLogins(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxFailedLogins")
        .hasMessageContaining("got 0");
    // nothing was set by the failed calls
    b.accountThrottle(1, Duration.ofSeconds(1)).throttleCapacity(16).maxFailedLogins(1);
  }

  /** A PbConnection that did not come from a PbServer. */
  static final class ForeignConnection implements PbConnection {
    @Override
    public SocketAddress remoteAddress() {
      return new InetSocketAddress("127.0.0.1", 1);
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void onClose(Consumer<PbException> listener) {}

    @Override
    public void close() {}

    @Override
    public Stats stats() {
      return new Stats(0, 0, 0, 0, 0);
    }

    @Override
    public PbCodec codec() {
      return PbCodec.of(PbRegistry.defaults());
    }

    @Override
    public int exportedCount() {
      return 0;
    }

    @Override
    public int importedCount() {
      return 0;
    }
  }
}
