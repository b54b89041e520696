package io.pbj;

/** The login suite over the in-process transport. */
class InProcessLoginTest extends AbstractLoginTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
