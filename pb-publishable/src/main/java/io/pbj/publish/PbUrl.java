package io.pbj.publish;

import com.google.common.net.InetAddresses;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Objects;

/**
 * A printable, stateless reference to one published object: {@code
 * pb://<server-id>@<host>:<port>/<service>/<identity>}. The server id is the origin's id, derived
 * from its {@link ServerKey} (a resolver checks that the server there proves it), not an address;
 * host and port say where to connect.
 *
 * <pre>{@code
 * PbUrl url = PbUrl.parse("pb://" + serverId + "@game.example.com:7000/world/c%3A12%3A7");
 * url.identity();                  // "c:12:7"
 * url.toString();                  // the same text, re-encoded canonically
 * new PbUrl(world.serverId(), "::1", 7000, "world", "house/3").toString();
 *                                  // "pb://pbj1-...@[::1]:7000/world/house%2F3"
 * }</pre>
 *
 * <p>The parser is strict (RFC 3986 syntax, restricted): the scheme is {@code pb}; the server id
 * is made of letters, digits, {@code - . _ ~ :} and percent escapes; the host is a DNS name, an
 * IPv4 address or a bracketed IPv6 address; the port (1 to 65535) is required; the path is
 * exactly two non-empty segments, percent-decoded as UTF-8 (a {@code /} inside the identity is
 * written {@code %2F}); there is no query and no fragment. Decoded parts must not contain control
 * characters or invisible format characters other than the joiners U+200C and U+200D (no
 * bidirectional controls, no zero-width spaces); the host is kept in lower case. Every refusal
 * is an {@link IllegalArgumentException} naming the problem and its position.
 *
 * <p>Thread-safety: immutable.
 *
 * @param serverId the origin server's stable id
 * @param host where to connect: a DNS name or an IP address (IPv6 without brackets)
 * @param port where to connect, 1 to 65535
 * @param service the published service
 * @param identity the published identity within the service
 */
public record PbUrl(String serverId, String host, int port, String service, String identity) {
  /** The scheme, as formatted. */
  public static final String SCHEME = "pb";

  /** Longest reference accepted, in characters. */
  public static final int MAX_LENGTH = 8192;

  private static final String UNRESERVED_EXTRA = "-._~";

  /**
   * Checks every part.
   *
   * @throws IllegalArgumentException naming the bad part
   */
  public PbUrl {
    checkText("server id", serverId);
    Objects.requireNonNull(host, "host");
    host = host.toLowerCase(Locale.ROOT); // host names and IPv6 digits ignore case: one spelling
    String hostProblem = hostProblem(host);
    if (hostProblem != null) {
      throw new IllegalArgumentException("pb:// host \"" + host + "\": " + hostProblem);
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("pb:// port " + port + " is out of range 1-65535");
    }
    checkText("service", service);
    checkText("identity", identity);
    int length = canonical(serverId, host, port, service, identity).length();
    if (length > MAX_LENGTH) {
      throw new IllegalArgumentException(
          "pb:// reference would be " + length + " characters, longer than " + MAX_LENGTH);
    }
  }

  /**
   * Parses a {@code pb://} reference.
   *
   * @throws IllegalArgumentException if {@code text} is not one, naming what is wrong and where
   */
  public static PbUrl parse(String text) {
    Objects.requireNonNull(text, "text");
    return new Parser(text).parse();
  }

  /** The canonical text of this reference; {@link #parse} gives back an equal {@code PbUrl}. */
  @Override
  public String toString() {
    return canonical(serverId, host, port, service, identity);
  }

  private static String canonical(
      String serverId, String host, int port, String service, String identity) {
    String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
    return SCHEME + "://" + encode(serverId, true) + "@" + h + ":" + port + "/"
        + encode(service, false) + "/" + encode(identity, false);
  }

  /** This reference with another identity (same server, address and service). */
  public PbUrl withIdentity(String otherIdentity) {
    return new PbUrl(serverId, host, port, service, otherIdentity);
  }

  private static void checkText(String part, String value) {
    Objects.requireNonNull(value, part);
    if (value.isEmpty()) {
      throw new IllegalArgumentException("pb:// " + part + " must not be empty");
    }
    for (int i = 0; i < value.length(); ) {
      char c = value.charAt(i);
      if (Character.isSurrogate(c)
          && !(Character.isHighSurrogate(c) && i + 1 < value.length()
              && Character.isLowSurrogate(value.charAt(i + 1)))) {
        throw new IllegalArgumentException(String.format(
            "pb:// %s contains an unpaired surrogate U+%04X at index %d", part, (int) c, i));
      }
      int cp = value.codePointAt(i);
      String problem = forbidden(cp);
      if (problem != null) {
        throw new IllegalArgumentException(
            "pb:// " + part + " contains " + problem + " at index " + i);
      }
      i += Character.charCount(cp);
    }
  }

  /**
   * Why {@code cp} may not appear in a decoded part, or null. Control characters, and invisible
   * format characters: shown to a user, bidirectional controls reorder the text around them
   * ("Trojan Source") and zero-width ones make two different references look the same. The
   * joiners U+200C and U+200D stay allowed: scripts and emoji sequences need them.
   */
  private static String forbidden(int cp) {
    if (Character.isISOControl(cp)) {
      return String.format("the control character U+%04X", cp);
    }
    if (Character.getType(cp) == Character.FORMAT && cp != 0x200C && cp != 0x200D) {
      return String.format("the invisible format character U+%04X", cp);
    }
    return null;
  }

  /** Why {@code host} (IPv6 without brackets) is no host, or null. */
  private static String hostProblem(String host) {
    if (host.isEmpty()) {
      return "empty";
    }
    if (host.length() > 253) {
      return "longer than 253 characters";
    }
    if (host.indexOf(':') >= 0) {
      for (int i = 0; i < host.length(); i++) {
        char c = host.charAt(i);
        if (!(isHex(c) || c == ':' || c == '.')) {
          return "'" + c + "' at index " + i + " is not allowed in an IPv6 address";
        }
      }
      return InetAddresses.isInetAddress(host) ? null : "not an IPv6 address";
    }
    if (host.chars().allMatch(c -> (c >= '0' && c <= '9') || c == '.')
        && !InetAddresses.isInetAddress(host)) {
      return "not an IPv4 address (four numbers from 0 to 255)";
    }
    for (String label : host.split("\\.", -1)) {
      if (label.isEmpty()) {
        return "has an empty label (two dots, or a dot at an end)";
      }
      if (label.length() > 63) {
        return "label \"" + label + "\" is longer than 63 characters";
      }
      if (label.startsWith("-") || label.endsWith("-")) {
        return "label \"" + label + "\" starts or ends with '-'";
      }
      for (int i = 0; i < label.length(); i++) {
        char c = label.charAt(i);
        if (!(isAlnum(c) || c == '-')) {
          return "'" + c + "' is not allowed in a host name (letters, digits, '-' and '.')";
        }
      }
    }
    return null;
  }

  private static String encode(String value, boolean allowColon) {
    StringBuilder b = new StringBuilder(value.length() + 8);
    for (byte x : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (x & 0xff);
      if (c < 0x80 && (isAlnum(c) || UNRESERVED_EXTRA.indexOf(c) >= 0 || (allowColon && c == ':'))) {
        b.append(c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return b.toString();
  }

  private static boolean isAlnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** One parse of one text; positions in errors are indexes into it. */
  private static final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    PbUrl parse() {
      if (text.length() > MAX_LENGTH) {
        throw error("is longer than " + MAX_LENGTH + " characters", 0);
      }
      int schemeEnd = text.indexOf("://");
      if (schemeEnd < 0 || !text.substring(0, schemeEnd).toLowerCase(Locale.ROOT).equals(SCHEME)) {
        throw error("must start with pb://", 0);
      }
      pos = schemeEnd + 3;
      for (int i = pos; i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '?' || c == '#') {
          throw error("takes no " + (c == '?' ? "query" : "fragment") + " ('" + c + "')", i);
        }
        if (c <= 0x20 || c >= 0x7f) {
          throw error(String.format("contains U+%04X, which must be percent-encoded", (int) c), i);
        }
      }
      int at = text.indexOf('@', pos);
      int slash = text.indexOf('/', pos);
      if (at < 0 || (slash >= 0 && slash < at)) {
        throw error("needs a server id before '@' (pb://<server-id>@host:port/service/identity)",
            pos);
      }
      String serverId = decode("server id", pos, at, true);
      pos = at + 1;
      if (slash < 0) {
        throw error("needs a path /<service>/<identity> after host:port", text.length());
      }
      String host;
      int portStart;
      if (pos < text.length() && text.charAt(pos) == '[') {
        int close = text.indexOf(']', pos);
        if (close < 0 || close > slash) {
          throw error("has '[' without ']' around an IPv6 address", pos);
        }
        host = text.substring(pos + 1, close);
        if (host.indexOf(':') < 0) {
          throw error("brackets are only for IPv6 addresses", pos);
        }
        portStart = close + 1;
      } else {
        int colon = text.lastIndexOf(':', slash);
        if (colon < pos) {
          throw error("needs a port after the host (host:port)", slash);
        }
        host = text.substring(pos, colon);
        portStart = colon;
        if (host.indexOf(':') >= 0) {
          throw error("an IPv6 address must be in brackets, e.g. [::1]:7000", pos);
        }
      }
      String hostProblem = hostProblem(host);
      if (hostProblem != null) {
        throw error("host \"" + host + "\" is invalid: " + hostProblem, pos);
      }
      if (portStart >= text.length() || text.charAt(portStart) != ':') {
        throw error("needs ':' and a port after the host", portStart);
      }
      int port = parsePort(portStart + 1, slash);
      pos = slash + 1;
      int second = text.indexOf('/', pos);
      if (second < 0) {
        throw error("needs two path segments, /<service>/<identity>", text.length());
      }
      if (text.indexOf('/', second + 1) >= 0) {
        throw error("has more than two path segments (write '/' in an identity as %2F)",
            text.indexOf('/', second + 1));
      }
      String service = decode("service", pos, second, false);
      String identity = decode("identity", second + 1, text.length(), false);
      try {
        return new PbUrl(serverId, host, port, service, identity);
      } catch (IllegalArgumentException e) {
        // what the parser has not checked itself: the length of the canonical text, which
        // escapes may make longer than the text
        IllegalArgumentException refusal = error(e.getMessage(), 0);
        refusal.initCause(e);
        throw refusal;
      }
    }

    private int parsePort(int from, int to) {
      if (from == to) {
        throw error("has an empty port", from);
      }
      if (to - from > 5) {
        throw error("port \"" + text.substring(from, to) + "\" is out of range 1-65535", from);
      }
      int port = 0;
      for (int i = from; i < to; i++) {
        char c = text.charAt(i);
        if (c < '0' || c > '9') {
          throw error("port \"" + text.substring(from, to) + "\" is not a number", i);
        }
        port = port * 10 + (c - '0');
      }
      if (port < 1 || port > 65535) {
        throw error("port " + port + " is out of range 1-65535", from);
      }
      return port;
    }

    private String decode(String part, int from, int to, boolean serverId) {
      if (from == to) {
        throw error("has an empty " + part, from);
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(to - from);
      // where in the text each decoded byte came from, so that a problem found after decoding
      // is reported at its escape
      int[] origin = new int[to - from];
      for (int i = from; i < to; i++) {
        char c = text.charAt(i);
        origin[bytes.size()] = i;
        if (c == '%') {
          if (i + 2 >= to) {
            throw error("has a truncated percent escape in the " + part, i);
          }
          char hi = text.charAt(i + 1);
          char lo = text.charAt(i + 2);
          if (!isHex(hi) || !isHex(lo)) {
            throw error("has a bad percent escape \"%" + hi + lo + "\" in the " + part, i);
          }
          bytes.write(Character.digit(hi, 16) * 16 + Character.digit(lo, 16));
          i += 2;
        } else if (isAlnum(c) || UNRESERVED_EXTRA.indexOf(c) >= 0 || (serverId && c == ':')
            || (!serverId && "!$&'()*+,;=:@".indexOf(c) >= 0)) {
          bytes.write(c);
        } else {
          throw error("'" + c + "' is not allowed in the " + part + " (percent-encode it)", i);
        }
      }
      String decoded;
      try {
        decoded = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes.toByteArray()))
            .toString();
      } catch (CharacterCodingException e) {
        throw error("the " + part + " is not valid UTF-8 once decoded", from);
      }
      // the constructor refuses these characters too, but could only say where in the part;
      // strict UTF-8 decoding has already refused surrogates
      for (int i = 0, at = 0; i < decoded.length(); ) {
        int cp = decoded.codePointAt(i);
        String problem = forbidden(cp);
        if (problem != null) {
          throw error("the " + part + " contains " + problem, origin[at]);
        }
        i += Character.charCount(cp);
        at += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      }
      return decoded;
    }

    private IllegalArgumentException error(String problem, int index) {
      return new IllegalArgumentException(
          "bad pb:// reference \"" + abbreviated() + "\": " + problem + " (at index " + index + ")");
    }

    private String abbreviated() {
      String shown = text.length() > 200 ? text.substring(0, 200) + "..." : text;
      StringBuilder b = new StringBuilder(shown.length());
      for (int i = 0; i < shown.length(); i++) {
        char c = shown.charAt(i);
        b.append(c < 0x20 || c == 0x7f ? String.format("\\u%04x", (int) c) : String.valueOf(c));
      }
      return b.toString();
    }
  }
}
