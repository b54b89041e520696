package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.Referenceable;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
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
    public int exportedCount() {
      return 0;
    }

    @Override
    public int importedCount() {
      return 0;
    }
  }
}
