package io.pbj;

/** The direct-mode suite over the in-process transport. */
class InProcessDirectModeTest extends AbstractDirectModeTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
