package io.pbj.publish;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PbUrlTest {

  @Test
  void parsesEveryPart() {
    PbUrl url = PbUrl.parse("pb://world-eu-1@game.example.com:7000/world/tile-0-0");
    assertThat(url).isEqualTo(new PbUrl("world-eu-1", "game.example.com", 7000, "world", "tile-0-0"));
  }

  @Test
  void percentEscapesDecodeAsUtf8AndFormatCanonically() {
    PbUrl url = PbUrl.parse("pb://origin@localhost:1/w%C3%B6rld/house%2F3%20b");
    assertThat(url.service()).isEqualTo("wörld");
    assertThat(url.identity()).isEqualTo("house/3 b");
    assertThat(url.toString()).isEqualTo("pb://origin@localhost:1/w%C3%B6rld/house%2F3%20b");
    assertThat(PbUrl.parse(url.toString())).isEqualTo(url);
  }

  @Test
  void ipv6HostsAreBracketedAndFingerprintServerIdsKeepTheirColons() {
    PbUrl url = new PbUrl("ab:cd:ef", "::1", 65535, "world", "c:1:2");
    assertThat(url.toString()).isEqualTo("pb://ab:cd:ef@[::1]:65535/world/c%3A1%3A2");
    assertThat(PbUrl.parse(url.toString())).isEqualTo(url);
    assertThat(PbUrl.parse("pb://s@[fe80::1]:7/a/b").host()).isEqualTo("fe80::1");
    assertThat(PbUrl.parse("pb://s@10.0.0.1:7/a/c:1").identity()).isEqualTo("c:1");
  }

  @Test
  void canonicalTextParsesBackToAnEqualReference() {
    for (String identity : new String[] {"plain", "a/b", "c:1:2", "100%", "\u00e9t\u00e9",
        "\uD83C\uDF0D world", "~._-", "!$&'()*+,;=@"}) {
      PbUrl url = new PbUrl("srv:ab", "example.org", 7, "world", identity);
      assertThat(PbUrl.parse(url.toString())).as(identity).isEqualTo(url);
    }
  }

  @Test
  void schemeIsCaseInsensitiveAndFormatsLowerCase() {
    assertThat(PbUrl.parse("PB://s@h:1/a/b").toString()).isEqualTo("pb://s@h:1/a/b");
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
    "http://s@h:1/a/b | must start with pb://",
    "pb:/s@h:1/a/b | must start with pb://",
    "pb://h:1/a/b | needs a server id before '@'",
    "pb://@h:1/a/b | has an empty server id",
    "pb://s@h/a/b | needs a port after the host",
    "pb://s@h:/a/b | has an empty port",
    "pb://s@h:0/a/b | port 0 is out of range 1-65535",
    "pb://s@h:65536/a/b | port 65536 is out of range 1-65535",
    "pb://s@h:123456/a/b | out of range 1-65535",
    "pb://s@h:7x/a/b | is not a number",
    "pb://s@h:1 | needs a path /<service>/<identity>",
    "pb://s@h:1/a | needs two path segments",
    "pb://s@h:1/a/ | has an empty identity",
    "pb://s@h:1//b | has an empty service",
    "pb://s@h:1/a/b/c | more than two path segments (write '/' in an identity as %2F)",
    "pb://s@h:1/a/b?x=1 | takes no query",
    "pb://s@h:1/a/b#top | takes no fragment",
    "pb://s@h:1/a/b%2 | truncated percent escape in the identity",
    "pb://s@h:1/a/b%zz | bad percent escape \"%zz\"",
    "pb://s@h:1/a/%FF | not valid UTF-8",
    "pb://s@h:1/a/b%00 | control character U+0000",
    "pb://s@h:1/a/b c | contains U+0020, which must be percent-encoded",
    "pb://s@-h:1/a/b | starts or ends with '-'",
    "pb://s@h..x:1/a/b | empty label",
    "pb://s@h_x:1/a/b | is not allowed in a host name",
    "pb://s@::1:7/a/b | must be in brackets",
    "pb://s@[::1/a/b | '[' without ']'",
    "pb://s@[host]:1/a/b | brackets are only for IPv6",
    "pb://s@[::1]/a/b | needs ':' and a port",
    "pb://s!x@h:1/a/b | '!' is not allowed in the server id",
    "pb://s@[:]:1/a/b | not an IPv6 address",
    "pb://s@[1::2::3]:1/a/b | not an IPv6 address",
    "pb://s@999.999.999.999:1/a/b | not an IPv4 address",
    "pb://s@1.2.3:1/a/b | not an IPv4 address",
    "pb://s@h:1/a/x%C2%85 | control character U+0085",
    "pb://s@h:1/a/x%E2%80%AEfdp.exe | invisible format character U+202E",
    "pb://s@h:1/a/%E2%81%A6x%E2%81%A9 | invisible format character U+2066",
    "pb://s%E2%80%8F@h:1/a/b | invisible format character U+200F",
    "pb://s@h:1/a/ab%E2%80%8Bc | invisible format character U+200B",
    "pb://s@h:1/a/%EF%BB%BFb | invisible format character U+FEFF",
    "pb://s@h:1/a/b%F3%A0%80%81 | invisible format character U+E0001",
    "pb://s@h:1/a/x%ED%A0%80 | not valid UTF-8",
  })
  void malformedReferencesAreRefusedNamingTheProblem(String text, String problem) {
    assertThatThrownBy(() -> PbUrl.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad pb:// reference")
        .hasMessageContaining(problem);
  }

  @Test
  void joinersThatScriptsAndEmojiNeedAreKept() {
    String family = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67"; // man ZWJ woman ZWJ girl
    PbUrl url = new PbUrl("s", "h", 1, "a", family + "\u200C");
    assertThat(PbUrl.parse(url.toString())).isEqualTo(url);
    assertThatThrownBy(() -> new PbUrl("s", "h", 1, "a", "x\u2060y"))
        .hasMessageContaining("identity contains the invisible format character U+2060 at index 1");
  }

  @Test
  void hostNamesAreKeptInLowerCaseSoOneAddressHasOneSpelling() {
    PbUrl mixed = PbUrl.parse("pb://s@World.Example.COM:7000/a/b");
    assertThat(mixed.host()).isEqualTo("world.example.com");
    assertThat(mixed).isEqualTo(PbUrl.parse("pb://s@world.example.com:7000/a/b"));
    assertThat(new PbUrl("s", "FE80::1", 1, "a", "b").toString())
        .isEqualTo("pb://s@[fe80::1]:1/a/b");
  }

  @Test
  void overlongReferencesAreRefusedBeforeParsing() {
    String text = "pb://s@h:1/a/" + "x".repeat(PbUrl.MAX_LENGTH);
    assertThatThrownBy(() -> PbUrl.parse(text)).hasMessageContaining("longer than 8192");
  }

  @Test
  void refusalsFoundAfterDecodingSayWhereInTheText() {
    assertThatThrownBy(() -> PbUrl.parse("pb://s@h:1/a/b%00"))
        .hasMessageEndingWith("the identity contains the control character U+0000 (at index 14)");
    assertThatThrownBy(() -> PbUrl.parse("pb://s@h:1/a/%C3%A9%C2%85"))
        .hasMessageEndingWith("control character U+0085 (at index 19)");
    assertThatThrownBy(() -> PbUrl.parse("pb://s%01@h:1/a/b"))
        .hasMessageEndingWith("the server id contains the control character U+0001 (at index 6)");
    String escapesGrow = "pb://s@h:1/a/" + "!".repeat(3000);
    assertThatThrownBy(() -> PbUrl.parse(escapesGrow))
        .hasMessageContaining("would be 9013 characters, longer than 8192 (at index 0)")
        .as("the text is shown abbreviated")
        .hasMessageContaining("!!!...\"");
  }

  @Test
  void constructorChecksParts() {
    assertThatThrownBy(() -> new PbUrl("s", "h", 70000, "a", "b")).hasMessageContaining("70000");
    assertThatThrownBy(() -> new PbUrl("", "h", 1, "a", "b")).hasMessageContaining("server id");
    assertThatThrownBy(() -> new PbUrl("s", "h x", 1, "a", "b")).hasMessageContaining("host");
    assertThatThrownBy(() -> new PbUrl("s", "h", 1, "a", "line\nbreak"))
        .hasMessageContaining("U+000A");
    assertThatThrownBy(() -> new PbUrl("s", "h", 1, "a", "x\u0085"))
        .hasMessageContaining("U+0085");
    assertThatThrownBy(() -> new PbUrl("s", "h", 1, "a", "x\uD800"))
        .hasMessageContaining("unpaired surrogate U+D800");
    assertThatThrownBy(() -> new PbUrl("s", "h", 1, "a", "/".repeat(3000)))
        .as("a reference whose canonical text could not be parsed back")
        .hasMessageContaining("longer than 8192");
  }
}
