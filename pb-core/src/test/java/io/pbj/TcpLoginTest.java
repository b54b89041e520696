package io.pbj;

/** The login suite over the TCP transport. */
class TcpLoginTest extends AbstractLoginTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
