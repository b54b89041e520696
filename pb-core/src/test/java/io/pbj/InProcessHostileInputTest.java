package io.pbj;

import java.util.UUID;

class InProcessHostileInputTest extends AbstractHostileInputTest {
  @Override
  PbServer.Builder serverBuilder() {
    return PbServer.builder().inProcess("pbj-hostile-" + UUID.randomUUID());
  }

  @Override
  PbClient.Builder clientBuilder(PbServer server) {
    return PbClient.builder()
        .inProcess(((io.netty.channel.local.LocalAddress) server.localAddress()).id());
  }
}
