package io.pbj;

/** Cacheables and views over the Tcp transport. */
class TcpCacheTest extends AbstractCacheTest {
  @Override
  TestTransport transport() {
    return TestTransport.TCP;
  }
}
