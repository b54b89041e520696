package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.pbj.testing.PbCleanup;
import java.net.ServerSocket;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A connection that cannot be made fails with a message a person can act on, naming the address
 * as it was given, not Netty's internals; the Netty exception stays the cause.
 */
class ConnectFailureMessageTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @Test
  void refusedConnectionSaysConnectionRefusedAndNamesHostAndPort() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort(); // closed again: nothing listens there now
    }
    PbClient client = cleanup.register(PbClient.builder().address("localhost", port).build());
    Throwable t = catchThrowable(() -> client.rootObject().join());
    assertThat(t).isInstanceOf(CompletionException.class);
    PbException e = (PbException) t.getCause();
    assertThat(e.code()).isEqualTo(PbException.Code.CONNECT_FAILED);
    assertThat(e.getMessage())
        .contains("cannot connect to localhost:" + port + ": connection refused")
        .doesNotContain("AnnotatedConnectException")
        .doesNotContain("finishConnect")
        .doesNotContain("localhost/127.0.0.1");
    assertThat(e.getCause()).as("the Netty exception is kept as the cause").isNotNull();
  }

  @Test
  void anUnknownHostSaysSo() {
    PbClient client =
        cleanup.register(PbClient.builder().address("no-such-host.invalid", 7000).build());
    Throwable t = catchThrowable(() -> client.rootObject().join());
    assertThat(t.getCause()).isInstanceOf(PbException.class);
    assertThat(t.getCause().getMessage()).contains("cannot connect to no-such-host.invalid:7000: ");
  }
}
