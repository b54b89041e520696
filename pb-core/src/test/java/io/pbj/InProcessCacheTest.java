package io.pbj;

/** Cacheables and views over the InProcess transport. */
class InProcessCacheTest extends AbstractCacheTest {
  @Override
  TestTransport transport() {
    return TestTransport.IN_PROCESS;
  }
}
