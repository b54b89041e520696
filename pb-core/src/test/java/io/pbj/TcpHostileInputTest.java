package io.pbj;

/** Hostile input over the TCP transport. */
class TcpHostileInputTest extends AbstractHostileInputTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
