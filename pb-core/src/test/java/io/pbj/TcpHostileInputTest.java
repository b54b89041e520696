package io.pbj;

class TcpHostileInputTest extends AbstractHostileInputTest {
  @Override
  PbServer.Builder serverBuilder() {
    return PbServer.builder().address("127.0.0.1", 0);
  }

  @Override
  PbClient.Builder clientBuilder(PbServer server) {
    return PbClient.builder().address("127.0.0.1", server.port());
  }
}
