package io.pbj;

/** Hostile input over the in-process transport. */
class InProcessHostileInputTest extends AbstractHostileInputTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
