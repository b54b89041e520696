package io.pbj;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile address text, as a member list answered by a hostile server or a hostile cluster map
 * entry would carry it: each is refused with a clear error naming the text, quickly, and the
 * error message stays short and printable whatever the input.
 */
@Timeout(30)
class PbClientAddressAttackTest {

  @Test
  void portsThatAreNotPlainAsciiDigitsAreRefused() {
    assertBad("host:+7000", "the port is not a number");
    assertBad("host:-1", "the port is not a number");
    assertBad("host:0x1f", "the port is not a number");
    assertBad("host:007000", "the port is not a number");
    assertBad("host:\u0667\u0660\u0660\u0660", "the port is not a number"); // Arabic-Indic 7000
    assertBad("host:\uff17\uff10\uff10\uff10", "the port is not a number"); // fullwidth 7000
    assertBad("host:7000 junk", "the port is not a number");
    assertBad("[::1]:7000:7001", "the port is not a number");
  }

  @Test
  void hostsWithLookAlikeOrControlCharactersAreRefusedAndTheMessageIsEscaped() {
    // a fullwidth 'e': would look like "evil.com" in a log
    assertBad("\uff45vil.com:1", "\"\\uff45vil.com:1\": the host may hold only");
    assertBad("a\u0000b:1", "\"a\\u0000b:1\"");
    assertBad("a\u001b[31mred:1", "\"a\\u001b[31mred:1\"");
    assertBad("a/b:1", "the host may hold only");
    assertBad("user@host:1", "the host may hold only");
    assertBad("[::1%]:1", "between brackets is not an IPv6 address");
    assertBad("[::1%e th]:1", "between brackets is not an IPv6 address");
    assertBad("[1.2.3.4]:1", "between brackets is not an IPv6 address");
    assertBad("x".repeat(254) + ":1", "at most 253");
  }

  @Test
  void hugeTextIsRefusedQuicklyWithAShortMessage() {
    String huge = "a".repeat(5_000_000) + ":1";
    Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> PbClient.parseAddress(huge));
    assertThat(t).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than 300 characters");
    assertThat(t.getMessage().length()).as("the message quotes at most 100 characters")
        .isLessThan(300);

    String manyCommas = ",".repeat(1_000_000);
    Throwable many =
        org.assertj.core.api.Assertions.catchThrowable(() -> PbClient.parseAddresses(manyCommas));
    assertThat(many).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("at most 64");
    assertThat(many.getMessage().length()).isLessThan(300);

    String oneHugeEntry = "a:1," + "b".repeat(1_000_000) + ":2";
    Throwable entry =
        org.assertj.core.api.Assertions.catchThrowable(() -> PbClient.parseAddresses(oneHugeEntry));
    assertThat(entry).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address 2: bad address")
        .hasMessageContaining("longer than 300 characters");
    assertThat(entry.getMessage().length()).isLessThan(300);
  }

  @Test
  void aListOfHugeSizeOrWithANullIsRefusedByTheBuilderAndByUpdate() {
    List<InetSocketAddress> many = new ArrayList<>(
        Collections.nCopies(100_000, InetSocketAddress.createUnresolved("a", 1)));
    assertThatThrownBy(() -> PbClient.builder().addresses(many))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("100000 addresses; at most 64");
    List<InetSocketAddress> withNull = new ArrayList<>();
    withNull.add(InetSocketAddress.createUnresolved("a", 1));
    withNull.add(null);
    assertThatThrownBy(() -> PbClient.builder().addresses(withNull))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("address 2 is null");
  }

  @Test
  void theSameHostInAnotherCaseIsOneAddress() {
    List<InetSocketAddress> checked = PbClient.checkAddresses("test",
        List.of(PbClient.parseAddress("Game.Example.COM:7000"),
            PbClient.parseAddress("game.example.com:7000"),
            PbClient.parseAddress("[2001:DB8::1]:7000"),
            PbClient.parseAddress("[2001:db8::1]:7000")));
    assertThat(checked).hasSize(2);
  }

  private static void assertBad(String text, String message) {
    assertThatThrownBy(() -> PbClient.parseAddress(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message);
  }
}
