package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;

import io.pbj.PbConnection;
import io.pbj.PbServer;
import io.pbj.PbClient;
import io.pbj.RemoteReference;
import io.pbj.testing.PbCleanup;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * An attack on the publishing endpoint (issue 9, "Hardening"): {@code fetch} answers one full
 * state per identity it is given, repeats included, so a peer names one identity many times and
 * gets (and makes the server compute, encode and hold) far more than it sent. On the world
 * sample, 840 KB naming one chunk 120,000 times was answered with 248 MB; twenty such calls on a
 * connection that did not read made a 1 GiB server run out of direct memory.
 */
@Timeout(120)
class FetchAmplificationTest {
  @RegisterExtension final PbCleanup cleanup = new PbCleanup();

  @Test
  void fetchingOneIdentityManyTimesCostsNoMoreThanWhatWasSent() throws Exception {
    Tile big = new Tile("tile-0", "x".repeat(2000), 1);
    PublishingService service = PublishingService.builder().serverKey(TestKeys.key("origin-1"))
        .service("world").build();
    service.publish(big);
    PbServer server = cleanup.register(PbServer.builder().address("127.0.0.1", 0)
        .registry(PublishingTest.REGISTRY).rootFactory(service::endpoint).build().start());
    RemoteReference endpoint = cleanup.register(PbClient.builder()
            .address("127.0.0.1", server.port()).registry(PublishingTest.REGISTRY).build())
        .rootObject().get(30, TimeUnit.SECONDS);
    PbConnection connection = endpoint.connection();
    String[] repeated = new String[5000];
    Arrays.fill(repeated, "tile-0");
    int taken = big.statesTaken.get();
    PbConnection.Stats before = connection.stats();
    CompletableFuture<Object> answer = endpoint.callRemote("fetch", (Object) repeated);
    try {
      answer.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException refused) {
      // refusing the call is one way to keep the bound
    }
    PbConnection.Stats after = connection.stats();
    long sent = after.bytesSent() - before.bytesSent();
    long received = after.bytesReceived() - before.bytesReceived();
    assertThat(received)
        .as("bytes answered for %d bytes asked", sent)
        .isLessThanOrEqualTo(16 * sent + 64 * 1024);
    assertThat(big.statesTaken.get() - taken)
        .as("states computed for one distinct identity")
        .isLessThanOrEqualTo(1);
  }
}
