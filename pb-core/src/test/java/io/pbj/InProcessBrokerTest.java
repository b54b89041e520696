package io.pbj;

/** The broker suite over the in-process transport. */
class InProcessBrokerTest extends AbstractBrokerTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
