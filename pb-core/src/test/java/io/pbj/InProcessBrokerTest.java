package io.pbj;

import java.util.UUID;

/** The broker suite over the in-process transport. */
class InProcessBrokerTest extends AbstractBrokerTest {
  @Override
  PbServer.Builder serverBuilder() {
    return PbServer.builder().inProcess("pbj-test-" + UUID.randomUUID());
  }

  @Override
  PbClient.Builder clientBuilder(PbServer server) {
    return PbClient.builder()
        .inProcess(((io.netty.channel.local.LocalAddress) server.localAddress()).id());
  }
}
