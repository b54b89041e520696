package io.pbj;

/** The direct-mode attacks over the in-process transport. */
class InProcessDirectModeAttackTest extends AbstractDirectModeAttackTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
