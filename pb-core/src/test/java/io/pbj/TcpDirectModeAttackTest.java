package io.pbj;

/** The direct-mode attacks over TCP. */
class TcpDirectModeAttackTest extends AbstractDirectModeAttackTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
