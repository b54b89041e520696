package io.pbj.bench.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void theDefaultLinksAreLoopbackThenHundredMbitWithTwentyMsRoundTrip() {
    Options o = Options.parse(new String[0]);

    assertThat(o.links()).extracting(Link::name).containsExactly("loopback", "100mbit-20ms");
    assertThat(o.links().get(0).isLoopback()).isTrue();
  }

  @Test
  void aLinkNamesItsBandwidthEachWayAndItsRoundTrip() {
    Link link = Link.parse("100mbit-25ms");

    assertThat(link.isLoopback()).isFalse();
    assertThat(link.bitsPerSecond()).isEqualTo(100_000_000L);
    assertThat(link.rttNanos()).isEqualTo(25_000_000L);
    assertThat(link.oneWayNanos()).isEqualTo(12_500_000L);
  }

  @Test
  void linksKeepTheOrderGivenAndDropRepeats() {
    Options o = Options.parse(new String[] {"--link", "10mbit-50ms,loopback,10mbit-50ms"});

    assertThat(o.links()).extracting(Link::name).containsExactly("10mbit-50ms", "loopback");
  }

  @Test
  void aBadLinkFailsNamingTheOptionAndTheValue() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--link", "loopback,100mbps-20ms"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--link")
        .hasMessageContaining("'100mbps-20ms'")
        .hasMessageContaining("<N>mbit-<M>ms");
  }

  @Test
  void anEmptyLinkInTheListIsRefused() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--link", "loopback,"}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad link ''");
  }

  @Test
  void aLinkWithoutBandwidthIsRefused() {
    assertThatThrownBy(() -> Link.parse("0mbit-20ms"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'0mbit-20ms'")
        .hasMessageContaining("at least 1 mbit");
  }

  @Test
  void repetitionsDefaultToFiveOnLoopbackAndThreeOnASimulatedLink() {
    Options o = Options.parse(new String[0]);

    assertThat(o.reps(Link.LOOPBACK)).isEqualTo(5);
    assertThat(o.reps(Link.parse("100mbit-20ms"))).isEqualTo(3);
  }

  @Test
  void givenRepetitionsApplyToEveryLink() {
    Options o = Options.parse(new String[] {"--reps", "2"});

    for (Link link : List.of(Link.LOOPBACK, Link.parse("100mbit-20ms"))) {
      assertThat(o.reps(link)).as(link.name()).isEqualTo(2);
    }
  }
}
