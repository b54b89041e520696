package io.pbj;

/** The login suite over TCP on loopback. */
class TcpLoginTest extends AbstractLoginTest {
  @Override
  PbServer.Builder serverBuilder() {
    return PbServer.builder().address("127.0.0.1", 0);
  }

  @Override
  PbClient.Builder clientBuilder(PbServer server) {
    return PbClient.builder().address("127.0.0.1", server.port());
  }
}
