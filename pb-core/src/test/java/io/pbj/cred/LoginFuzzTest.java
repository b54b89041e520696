package io.pbj.cred;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.pbj.PbCodec;
import io.pbj.PbConnection;
import io.pbj.PbException;
import io.pbj.PbException.Code;
import io.pbj.PbRegistry;
import io.pbj.Referenceable;
import io.pbj.internal.LoginHooks;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Jazzer target for the login exchange, server side: the remote methods of {@link LoginRoot}
 * (and through them {@link Scram}'s parsing of the client-first and client-final messages) driven
 * by a sequence of calls with fuzzer strings, on two portals that differ in one thing only: on
 * one every user name is a known user (with one password), on the other no user is known.
 *
 * <p>Each call answers or fails with a {@link PbException} of code UNAUTHORIZED or BAD_ARGUMENTS
 * (a malformed SCRAM message, docs/LOGIN.md), never another exception; a server-first message has
 * its documented form (the client's nonce extended by 32 characters, a 16-byte salt, the
 * checker's iteration count); and both portals answer every call alike (the same code and
 * message, the same delay before a failure, the same form of challenge), so an attacker cannot
 * tell a known user from an unknown one. A right proof for the known user logs in, with a server
 * signature the client accepts, where the same proof fails on the other portal like a wrong
 * password; the sequence ends there.
 *
 * <p>Input: UTF-8 text, one call per line, its first character the operation: {@code S} scramStart
 * with the rest of the line; {@code N} scramStart of a well-formed client-first message for the
 * user name that is the rest of the line; {@code F} scramFinish with the rest of the line; {@code
 * W} scramFinish with a well-formed proof for a wrong password; {@code V} the right proof for the
 * known user (ends the sequence); {@code A} anonymous login; {@code R} release the avatar (log
 * out); {@code n}, {@code f} scramStart, scramFinish with null; {@code T} let the delayed failures
 * answer; {@code Z} let 16 minutes pass (the throttle's windows; delayed failures due by then
 * answer). Delayed failures still pending at the end are let answer and compared too.
 *
 * <p>Seeds: {@code src/test/resources/io/pbj/cred/LoginFuzzTestInputs/<method>/}, plain text.
 * Fuzzing: see docs/FUZZING.md. Not thread-safe; Jazzer runs a target on one thread.
 */
class LoginFuzzTest {
  static final String PASSWORD = "correct horse";
  static final ScramVerifier KNOWN = ScramVerifier.derive(PASSWORD);
  private static final byte[] CLIENT_KEY =
      Scram.clientKey(Scram.saltedPassword(PASSWORD, KNOWN.salt(), KNOWN.iterations()));
  private static final byte[] WRONG_CLIENT_KEY =
      Scram.clientKey(Scram.saltedPassword("wrong " + PASSWORD, KNOWN.salt(), KNOWN.iterations()));
  private static final byte[] SECRET = "a portal secret of 32 bytes.....".getBytes(StandardCharsets.US_ASCII);
  static final String CLIENT_NONCE = "fyko+d2lbbFgONRv9qkxdawL";

  /** The longest sequence run: enough for a lockout and the throttles, short enough to be fast. */
  static final int MAX_CALLS = 32;

  /**
   * Any sequence of login calls with any strings gets, from each call, an answer or an
   * UNAUTHORIZED or BAD_ARGUMENTS failure, and the same from a portal that knows the user as from
   * one that does not.
   */
  @FuzzTest(maxDuration = "30s")
  void anyLoginCallsGetTheSameAnswersForKnownAndUnknownUsers(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    Side known = new Side(true);
    Side unknown = new Side(false);
    int calls = 0;
    for (String line : text.split("\n", -1)) {
      if (line.isEmpty() || calls++ == MAX_CALLS) {
        continue;
      }
      char op = line.charAt(0);
      String arg = line.substring(1);
      if (op == 'V') {
        rightProof(known, unknown);
        return;
      }
      String a = known.call(op, arg);
      String b = unknown.call(op, arg);
      if (!a.equals(b)) {
        throw new AssertionError("'" + op + arg + "' was answered " + a + " for a known user but "
            + b + " for an unknown one");
      }
    }
    known.settle();
    unknown.settle();
    if (known.delayed.size() != unknown.delayed.size()) {
      throw new AssertionError(known.delayed.size() + " delayed answers for a known user but "
          + unknown.delayed.size() + " for an unknown one");
    }
    for (int i = 0; i < known.delayed.size(); i++) {
      String a = known.delayed.get(i);
      String b = unknown.delayed.get(i);
      if (!a.equals(b)) {
        throw new AssertionError("delayed answer " + i + " was " + a + " for a known user but " + b
            + " for an unknown one");
      }
    }
  }

  /**
   * The known user's right proof: where the other portal checked the same proof and refused it
   * (at once or after a delay), this one logs in; where it refused before checking (no challenge,
   * throttled, locked out, busy), this one refuses alike.
   */
  private static void rightProof(Side known, Side unknown) {
    boolean challenged = known.pendingStart != null;
    String login = known.call('V', "");
    String refused = unknown.call('V', "");
    known.settle();
    unknown.settle();
    boolean checked =
        refused.equals("answer delayed")
            || refused.equals(Code.UNAUTHORIZED + ": " + LoginRoot.UNAUTHORIZED_LOGIN);
    String expected = challenged && checked ? "logged in with a password" : refused;
    if (!login.equals(expected)) {
      throw new AssertionError("the known user's right proof was answered " + login + " where "
          + expected + " was due (the unknown user's: " + refused + ")");
    }
  }

  /** One portal with one connection's login root, and what the fuzzer's calls got from it. */
  static final class Side {
    final FakeClock clock = new FakeClock();
    final FakeConnection connection = new FakeConnection();
    final LoginRoot root;
    /** The server-first message of the last scramStart answered, and its client-first-bare. */
    String pendingStart;
    String pendingBare;
    String avatarFinal;
    final List<CompletableFuture<?>> pending = new ArrayList<>();
    final List<String> delayed = new ArrayList<>();

    Side(boolean everyoneKnown) {
      Portal portal =
          Portal.builder(
                  (id, mind, c) -> CompletableFuture.completedFuture(Avatar.of(new Referenceable() {})))
              .checker(
                  PasswordChecker.builder()
                      .lookup(name -> everyoneKnown ? Optional.of(KNOWN) : Optional.empty())
                      .build())
              .checker(AnonymousChecker.allow())
              .secret(SECRET)
              .throttleCapacity(64) // small tables: a portal per execution; evictions exercised too
              .clock(clock)
              .auditSink(line -> {})
              .build();
      root = (LoginRoot) portal.root(connection);
    }

    /** Runs one call; answers what it got, in a form both portals must agree on. */
    String call(char op, String arg) {
      try {
        return switch (op) {
          case 'S' -> start(arg);
          case 'N' -> start("n,,n=" + arg + ",r=" + CLIENT_NONCE);
          case 'n' -> start(null);
          case 'F' -> finish(arg);
          case 'f' -> finish(null);
          case 'W' -> finish(clientFinal(WRONG_CLIENT_KEY));
          case 'V' -> finish(clientFinal(CLIENT_KEY));
          case 'A' -> anonymous();
          case 'R' -> connection.release();
          case 'T' -> settle();
          case 'Z' -> {
            clock.advance(Duration.ofMinutes(16));
            collectAnswered("within 16 minutes");
            yield "time passed";
          }
          default -> "no call";
        };
      } catch (PbException e) {
        return failed(e);
      }
    }

    private String start(String clientFirst) {
      pendingStart = null;
      String serverFirst = root.scramStart(clientFirst);
      Scram.ClientFirst first = Scram.ClientFirst.parse(clientFirst);
      checkServerFirst(first, serverFirst);
      pendingStart = serverFirst;
      pendingBare = first.bare();
      // the random server nonce and a known user's salt differ; the form must not
      return "challenge of the documented form";
    }

    private String anonymous() {
      pendingStart = null; // the root forgets its challenge too
      return future(root.loginAnonymous(null));
    }

    private String finish(String clientFinal) {
      pendingStart = null;
      return future(root.scramFinish(clientFinal, null));
    }

    /** A well-formed client-final answering the last challenge, proven with {@code clientKey}. */
    private String clientFinal(byte[] clientKey) {
      if (pendingStart == null) {
        return "c=biws,r=" + CLIENT_NONCE + "x,p=" + Base64.getEncoder().encodeToString(new byte[32]);
      }
      String nonce = pendingStart.substring(2, pendingStart.indexOf(','));
      String withoutProof = "c=" + Scram.CHANNEL_BINDING + ",r=" + nonce;
      String authMessage = pendingBare + "," + pendingStart + "," + withoutProof;
      byte[] signature = Scram.hmac(Scram.sha256(clientKey), authMessage);
      avatarFinal = "v=" + Scram.b64(Scram.hmac(KNOWN.serverKey(), authMessage));
      return withoutProof + ",p=" + Scram.b64(Scram.xor(clientKey, signature));
    }

    private String future(CompletableFuture<?> answer) {
      if (!answer.isDone()) {
        pending.add(answer);
        return "answer delayed";
      }
      return outcome(answer);
    }

    private String outcome(CompletableFuture<?> answer) {
      Throwable t = answer.handle((v, e) -> e).join();
      if (t != null) {
        if (!(t instanceof PbException pb)) {
          throw new AssertionError("a login call failed with " + t, t);
        }
        return failed(pb);
      }
      Object value = answer.join();
      if (value instanceof List<?> l && l.size() == 2 && l.get(0) instanceof String serverFinal
          && l.get(1) instanceof Referenceable) {
        if (!serverFinal.equals(avatarFinal)) {
          throw new AssertionError("logged in with server-final " + serverFinal + "; expected " + avatarFinal);
        }
        return "logged in with a password";
      }
      if (value instanceof Referenceable) {
        return "logged in anonymously";
      }
      throw new AssertionError("a login call answered " + value);
    }

    /** Lets every delayed failure answer; records each answer and the delay before it. */
    String settle() {
      while (clock.hasDelayedFailure()) {
        long waited = clock.advanceToNextDelayedFailure();
        collectAnswered("after " + waited + " ns");
      }
      if (!pending.isEmpty()) {
        throw new AssertionError(pending.size() + " answers never came");
      }
      return "settled";
    }

    /** Records the delayed answers that have come, with when they came. */
    private void collectAnswered(String when) {
      for (CompletableFuture<?> f : List.copyOf(pending)) {
        if (f.isDone()) {
          pending.remove(f);
          delayed.add(outcome(f) + " " + when);
        }
      }
    }

    private static String failed(PbException e) {
      if (e.code() != Code.UNAUTHORIZED && e.code() != Code.BAD_ARGUMENTS) {
        throw new AssertionError("a login call failed with " + e.code() + ": " + e.getMessage(), e);
      }
      if (e.detail() == null || e.detail().isBlank()) {
        throw new AssertionError("a login failure says nothing: " + e, e);
      }
      return e.code() + ": " + e.detail();
    }
  }

  /** {@code r=CNONCE+SNONCE,s=SALT,i=ITERATIONS}, with the parts the RFC and docs/LOGIN.md fix. */
  static void checkServerFirst(Scram.ClientFirst first, String serverFirst) {
    String[] parts = serverFirst.split(",", -1);
    if (parts.length != 3 || !parts[0].startsWith("r=" + first.clientNonce())
        || parts[0].length() != 2 + first.clientNonce().length() + 32
        || !parts[1].startsWith("s=")
        || Base64.getDecoder().decode(parts[1].substring(2)).length != Scram.SALT_BYTES
        || !parts[2].equals("i=" + KNOWN.iterations())) {
      throw new AssertionError("server-first message " + serverFirst + " for " + first);
    }
  }

  /** What the login root needs of a broker connection, recorded. */
  static final class FakeConnection implements PbConnection, LoginHooks {
    private static final InetSocketAddress ADDRESS;

    static {
      try {
        ADDRESS = new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1}), 7000);
      } catch (UnknownHostException e) {
        throw new AssertionError(e);
      }
    }

    private Object perspective;
    private final List<Runnable> onDrop = new ArrayList<>();
    private String goodbye;

    /** Drops the avatar, as the client releasing it does: logs out. */
    String release() {
      List<Runnable> listeners = List.copyOf(onDrop);
      onDrop.clear();
      listeners.forEach(Runnable::run);
      return listeners.isEmpty() ? "nothing to release" : "released";
    }

    @Override
    public SocketAddress remoteAddress() {
      return ADDRESS;
    }

    @Override
    public boolean isOpen() {
      return goodbye == null;
    }

    @Override
    public void onClose(Consumer<PbException> listener) {}

    @Override
    public void close() {
      goodbye = "closed";
    }

    @Override
    public Stats stats() {
      return new Stats(0, 0, 0, 0, 0);
    }

    @Override
    public PbCodec codec() {
      return PbCodec.of(PbRegistry.defaults());
    }

    @Override
    public int exportedCount() {
      return 0;
    }

    @Override
    public int importedCount() {
      return 0;
    }

    @Override
    public Object perspective() {
      return perspective;
    }

    @Override
    public void setPerspective(Object perspective) {
      this.perspective = perspective;
    }

    @Override
    public void whenDropped(Object object, Runnable listener) {
      onDrop.add(Objects.requireNonNull(listener));
    }

    @Override
    public void goodbyeAfterReply(String reason) {
      goodbye = reason;
    }
  }
}
