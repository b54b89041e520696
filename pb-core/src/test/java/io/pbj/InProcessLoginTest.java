package io.pbj;

import java.util.UUID;

/** The login suite over the in-process transport. */
class InProcessLoginTest extends AbstractLoginTest {
  @Override
  PbServer.Builder serverBuilder() {
    return PbServer.builder().inProcess("pbj-login-test-" + UUID.randomUUID());
  }

  @Override
  PbClient.Builder clientBuilder(PbServer server) {
    return PbClient.builder()
        .inProcess(((io.netty.channel.local.LocalAddress) server.localAddress()).id());
  }
}
