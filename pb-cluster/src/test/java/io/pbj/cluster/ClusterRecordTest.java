package io.pbj.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class ClusterRecordTest {
  private static final byte[] STATE = "state".getBytes(StandardCharsets.UTF_8);
  private static final byte[] ARGS = {1, 2};

  /**
   * The golden bytes of format 1: a changed layout must take a new format byte, since every
   * member of a cluster (and the next run of the cluster) reads what the others wrote.
   */
  @Test
  void formatOneRecordsKeepTheirBytes() {
    assertThat(HexFormat.of().formatHex(ClusterRecord.whole(7, 0x0102030405060708L, STATE)
            .encode()))
        .isEqualTo("01" + "0000000000000007" + "0102030405060708" + "00" + "00000005"
            + "7374617465");
    assertThat(HexFormat.of().formatHex(ClusterRecord.delta(2, 9, 8, "add", ARGS, STATE)
            .encode()))
        .isEqualTo("01" + "0000000000000002" + "0000000000000009" + "01" + "0000000000000008"
            + "0003" + "616464" + "00000002" + "0102" + "00000005" + "7374617465");
  }

  /** Versions name states across runs and releases: clients' stores depend on them. */
  @Test
  void versionOfAStateIsStableAndDependsOnIdentityAndState() {
    long v = ClusterRecord.versionOf("tile-1", STATE);
    // SHA-256(01 00000006 "tile-1" "state"), first 8 bytes, computed outside Java
    assertThat(v).isEqualTo(ClusterRecord.versionOf("tile-1", STATE.clone()));
    assertThat(v).isEqualTo(0xf9f8ab8ffdefdf2dL);
    assertThat(ClusterRecord.versionOf("tile-2", STATE)).isNotEqualTo(v);
    assertThat(ClusterRecord.versionOf("tile-1", "other".getBytes(StandardCharsets.UTF_8)))
        .isNotEqualTo(v);
  }

  @Test
  void decodeReadsWhatEncodeWrote() {
    ClusterRecord d = ClusterRecord.decode(
        ClusterRecord.delta(2, 9, 8, "add", ARGS, STATE).encode(), 100);
    assertThat(d.seq()).isEqualTo(2);
    assertThat(d.version()).isEqualTo(9);
    assertThat(d.delta()).isTrue();
    assertThat(d.previousVersion()).isEqualTo(8);
    assertThat(d.method()).isEqualTo("add");
    assertThat(d.args()).isEqualTo(ARGS);
    assertThat(d.state()).isEqualTo(STATE);
  }

  @Test
  void everyTruncationAndExtensionIsRefusedWithAReason() {
    byte[] whole = ClusterRecord.delta(2, 9, 8, "add", ARGS, STATE).encode();
    for (int n = 0; n < whole.length; n++) {
      byte[] cut = Arrays.copyOf(whole, n);
      assertThatThrownBy(() -> ClusterRecord.decode(cut, 100))
          .as("%s of %s bytes", n, whole.length)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("the record");
    }
    assertThatThrownBy(() -> ClusterRecord.decode(Arrays.copyOf(whole, whole.length + 1), 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1 bytes follow the record");
  }

  @Test
  void partsOverTheLimitAreRefusedBeforeAllocating() {
    byte[] big = ClusterRecord.whole(1, 1, new byte[101]).encode();
    assertThatThrownBy(() -> ClusterRecord.decode(big, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the state has 101 bytes; the limit (maxStateBytes) is 100");
    byte[] lying = ClusterRecord.whole(1, 1, STATE).encode();
    lying[18] = (byte) 0x7f;    // the state's length: about 2 GB, 5 bytes follow
    assertThatThrownBy(() -> ClusterRecord.decode(lying, Integer.MAX_VALUE))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("the record ends inside the state");
    byte[] otherFormat = ClusterRecord.whole(1, 1, STATE).encode();
    otherFormat[0] = 2;
    assertThatThrownBy(() -> ClusterRecord.decode(otherFormat, 100))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("format is 2, this code reads format 1");
  }
}
