package io.pbj;

/** callRemoteAll over the InProcess transport. */
class InProcessFanoutTest extends AbstractFanoutTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
