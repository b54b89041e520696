package io.pbj.publish;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Jazzer targets for {@link PbUrl}: the parser of the {@code pb://} references that users paste
 * and that travel in messages, and the canonical form it promises.
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/publish/PbUrlFuzzTestInputs/<method>/}, written by
 * {@link PbUrlFuzzSeedWriter} (references as text for the parser, random bytes for the parts).
 * Fuzzing: see docs/FUZZING.md. Not thread-safe; Jazzer runs a target on one thread.
 */
class PbUrlFuzzTest {
  /** How every refusal of {@link PbUrl#parse} ends: the position of the problem in the text. */
  static final Pattern AT_INDEX = Pattern.compile("\\(at index (\\d+)\\)$");

  /**
   * Any text (the input as UTF-8) parses to a reference whose canonical text parses back to an
   * equal reference and is its own canonical text, or is refused with an {@link
   * IllegalArgumentException} that names the problem and its index in the text; nothing else.
   */
  @FuzzTest(maxDuration = "30s")
  void anyTextParsesToAReferenceThatPrintsBackOrIsRefusedNamingWhere(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    PbUrl url;
    try {
      url = PbUrl.parse(text);
    } catch (IllegalArgumentException e) {
      String message = e.getMessage();
      Matcher at = AT_INDEX.matcher(message == null ? "" : message);
      if (!at.find() || !message.startsWith("bad pb:// reference")) {
        throw new AssertionError("a refusal that does not say where: " + message, e);
      }
      int index = Integer.parseInt(at.group(1));
      if (index > text.length()) {
        throw new AssertionError("a refusal at index " + index + " of a text of " + text.length()
            + " characters: " + message, e);
      }
      return;
    }
    roundTrip(url);
  }

  /**
   * Whatever parts the fuzzer builds, a reference the constructor accepts prints to canonical text
   * that parses back to an equal reference; one it refuses is refused with an {@link
   * IllegalArgumentException} that names the part.
   */
  @FuzzTest(maxDuration = "30s")
  void anyReferenceTheConstructorAcceptsPrintsAndParsesBack(FuzzedDataProvider data) {
    String serverId = data.consumeString(64);
    String host = host(data);
    int port = data.consumeBoolean() ? data.consumeInt(1, 65535) : data.consumeInt();
    String service = data.consumeString(64);
    String identity = data.consumeRemainingAsString();
    PbUrl url;
    try {
      url = new PbUrl(serverId, host, port, service, identity);
    } catch (IllegalArgumentException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("pb:// ")) {
        throw new AssertionError("a refusal that does not name the part: " + e.getMessage(), e);
      }
      return;
    }
    roundTrip(url);
  }

  private static void roundTrip(PbUrl url) {
    String printed = url.toString();
    PbUrl back;
    try {
      back = PbUrl.parse(printed);
    } catch (IllegalArgumentException e) {
      throw new AssertionError(url + "'s own text is refused: " + e.getMessage(), e);
    }
    if (!back.equals(url)) {
      throw new AssertionError(printed + " parses to " + back.serverId() + " / " + back.host()
          + " / " + back.port() + " / " + back.service() + " / " + back.identity()
          + ", not to the reference it was printed from");
    }
    if (!back.toString().equals(printed)) {
      throw new AssertionError("the canonical text " + printed + " prints as " + back);
    }
  }

  /** A host the fuzzer can reach: any text, or an IPv4 or IPv6 address it chooses. */
  private static String host(FuzzedDataProvider data) {
    switch (data.consumeInt(0, 3)) {
      case 0:
        return data.consumeString(80);
      case 1:
        return data.consumeInt(0, 300) + "." + data.consumeInt(0, 300) + "." + data.consumeInt(0, 300)
            + "." + data.consumeInt(0, 300);
      case 2:
        try {
          return InetAddress.getByAddress(data.consumeBytes(16)).getHostAddress();
        } catch (UnknownHostException e) {
          return "::"; // fewer than 16 bytes left: the unspecified address
        }
      default:
        return data.consumeAsciiString(80);
    }
  }
}
