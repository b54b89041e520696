package io.pbj;

/** callRemoteAll over the Tcp transport. */
class TcpFanoutTest extends AbstractFanoutTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
