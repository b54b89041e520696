package io.pbj.internal;

import io.pbj.PbRegistry;
import java.util.concurrent.Executor;

/** Broker settings for unit tests of the internal parts. */
final class TestConfigs {
  private TestConfigs() {}

  /** Default limits, stack traces off. */
  static BrokerConfig config(PbRegistry registry, Executor executor) {
    return config(registry, executor, Wire.DEFAULT_MAX_FRAME, Wire.DEFAULT_MAX_MESSAGE);
  }

  static BrokerConfig config(
      PbRegistry registry, Executor executor, int maxFrame, int maxMessage) {
    return new BrokerConfig(
        registry,
        executor,
        maxFrame,
        maxMessage,
        Wire.DEFAULT_MAX_DEPTH,
        Wire.DEFAULT_MAX_REFERENCES,
        false,
        Wire.DEFAULT_MAX_DECODE_EXPANSION);
  }
}
