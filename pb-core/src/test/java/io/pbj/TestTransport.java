package io.pbj;

import io.netty.channel.local.LocalAddress;
import java.util.UUID;

/** The transports every abstract suite runs over. */
enum TestTransport {
  IN_PROCESS {
    @Override
    PbServer.Builder serverBuilder() {
      return PbServer.builder().inProcess("pbj-test-" + UUID.randomUUID());
    }

    @Override
    PbClient.Builder clientBuilder(PbServer server) {
      return PbClient.builder().inProcess(((LocalAddress) server.localAddress()).id());
    }
  },
  TCP {
    @Override
    PbServer.Builder serverBuilder() {
      return PbServer.builder().address("127.0.0.1", 0);
    }

    @Override
    PbClient.Builder clientBuilder(PbServer server) {
      return PbClient.builder().address("127.0.0.1", server.port());
    }
  };

  /** A server builder bound to a fresh address of this transport. */
  abstract PbServer.Builder serverBuilder();

  /** A client builder for {@code server}. */
  abstract PbClient.Builder clientBuilder(PbServer server);
}
