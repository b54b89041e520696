package io.pbj.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The counting behind the connection caps. */
class AdmissionTest {
  static ServerLimits limits(int maxConnections, int perAddress) {
    return new ServerLimits(
        Duration.ZERO, 0, 0, Duration.ZERO, Duration.ZERO, maxConnections, perAddress, 0);
  }

  @Test
  void theTotalCapCountsOpenChannelsOnly() {
    Admission admission = new Admission(limits(2, 0));
    EmbeddedChannel a = new EmbeddedChannel();
    EmbeddedChannel b = new EmbeddedChannel();
    assertThat(admission.admit(a)).isNull();
    assertThat(admission.admit(b)).isNull();
    assertThat(admission.admit(new EmbeddedChannel())).contains("the server is full (2 connections)");
    assertThat(admission.open()).isEqualTo(2);
    a.close();
    assertThat(admission.open()).isEqualTo(1);
    assertThat(admission.admit(new EmbeddedChannel())).isNull();
  }

  @Test
  void refusalsInProgressAreBounded() {
    assertThat(Admission.refusalSlots(100)).isEqualTo(25);
    assertThat(Admission.refusalSlots(1)).isEqualTo(1);
    assertThat(Admission.refusalSlots(0)).isEqualTo(Admission.MAX_REFUSING);
    Admission admission = new Admission(limits(10_000, 0));
    List<EmbeddedChannel> refused = new ArrayList<>();
    for (int i = 0; i < Admission.MAX_REFUSING; i++) {
      EmbeddedChannel c = new EmbeddedChannel();
      assertThat(admission.startRefusal(c)).isTrue();
      refused.add(c);
    }
    assertThat(admission.startRefusal(new EmbeddedChannel())).isFalse();
    assertThat(admission.refusing()).isEqualTo(Admission.MAX_REFUSING);
    refused.get(0).close();
    assertThat(admission.startRefusal(new EmbeddedChannel())).isTrue();
  }

  @Test
  void anIpv6SubscriberIsOneAddress() throws Exception {
    InetAddress a = Admission.key(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2::1"), 1));
    InetAddress b =
        Admission.key(new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:ffff::9"), 2));
    InetAddress other =
        Admission.key(new InetSocketAddress(InetAddress.getByName("2001:db8:1:3::1"), 1));
    assertThat(a).isEqualTo(b).isNotEqualTo(other);
    InetAddress v4 = Admission.key(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 1));
    assertThat(v4.getHostAddress()).isEqualTo("192.0.2.7");
    assertThat(Admission.key(new io.netty.channel.local.LocalAddress("x"))).isNull();
  }
}
