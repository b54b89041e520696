package io.pbj;

/** The broker suite over the TCP transport. */
class TcpBrokerTest extends AbstractBrokerTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
