package io.pbj;

/** The direct-mode suite over TCP. */
class TcpDirectModeTest extends AbstractDirectModeTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
