package io.pbj.cred;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pbj.PbException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** SCRAM-SHA-256 against RFC 7677's example, and the properties the login relies on. */
class LoginScramTest {
  // RFC 7677, section 3.
  static final String USER = "user";
  static final String PASSWORD = "pencil";
  static final String CLIENT_NONCE = "rOprNGfwEbeRWgbNEkqO";
  static final String SERVER_NONCE = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  static final String SALT = "W22ZaJ0SNY7soEsUEjb6gQ==";
  static final String CLIENT_FIRST = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
  static final String SERVER_FIRST =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  static final String CLIENT_FINAL =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
          + "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  static final String SERVER_FINAL = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

  static Scram.Verifier rfcVerifier() {
    ScramVerifier v = ScramVerifier.derive(PASSWORD, Base64.getDecoder().decode(SALT), 4096);
    return new Scram.Verifier(v.salt(), v.iterations(), v.storedKey(), v.serverKey());
  }

  @Test
  void clientReproducesTheRfc7677Exchange() {
    Scram.Client client = new Scram.Client(USER, PASSWORD, CLIENT_NONCE);
    assertThat(client.clientFirst()).isEqualTo(CLIENT_FIRST);
    assertThat(client.clientFinal(SERVER_FIRST)).isEqualTo(CLIENT_FINAL);
    assertThat(client.verifyServerFinal(SERVER_FINAL)).isTrue();
  }

  @Test
  void serverReproducesTheRfc7677ExchangeFromTheVerifierAlone() {
    Scram.ServerExchange server =
        new Scram.ServerExchange(Scram.ClientFirst.parse(CLIENT_FIRST), rfcVerifier(), SERVER_NONCE);
    assertThat(server.serverFirst()).isEqualTo(SERVER_FIRST);
    assertThat(server.verify(CLIENT_FINAL)).isEqualTo(SERVER_FINAL);
  }

  @Test
  void clientFinalMessageNeverContainsThePassword() {
    String password = "correct horse battery staple";
    Scram.Client client = new Scram.Client("alice", password);
    ScramVerifier v = ScramVerifier.derive(password);
    Scram.ServerExchange server =
        new Scram.ServerExchange(
            Scram.ClientFirst.parse(client.clientFirst()),
            new Scram.Verifier(v.salt(), v.iterations(), v.storedKey(), v.serverKey()),
            Scram.nonce());
    String first = client.clientFirst();
    String fin = client.clientFinal(server.serverFirst());
    for (String message : new String[] {first, server.serverFirst(), fin}) {
      byte[] bytes = message.getBytes(StandardCharsets.UTF_8);
      assertThat(indexOf(bytes, password.getBytes(StandardCharsets.UTF_8))).isEqualTo(-1);
      assertThat(message).doesNotContain(password);
      assertThat(message)
          .doesNotContain(Base64.getEncoder().encodeToString(password.getBytes(StandardCharsets.UTF_8)));
    }
    assertThat(server.verify(fin)).isNotNull();
  }

  @Test
  void wrongPasswordProofIsRefused() {
    Scram.Client client = new Scram.Client(USER, "not pencil", CLIENT_NONCE);
    Scram.ServerExchange server =
        new Scram.ServerExchange(Scram.ClientFirst.parse(client.clientFirst()), rfcVerifier(), SERVER_NONCE);
    assertThat(server.verify(client.clientFinal(server.serverFirst()))).isNull();
  }

  @Test
  void proofForOneChallengeFailsAnotherChallenge() {
    Scram.Client client = new Scram.Client(USER, PASSWORD, CLIENT_NONCE);
    Scram.ClientFirst first = Scram.ClientFirst.parse(client.clientFirst());
    Scram.ServerExchange original = new Scram.ServerExchange(first, rfcVerifier(), Scram.nonce());
    String proof = client.clientFinal(original.serverFirst());
    Scram.ServerExchange later = new Scram.ServerExchange(first, rfcVerifier(), Scram.nonce());
    assertThat(later.verify(proof)).isNull();
    assertThat(original.verify(proof)).isNotNull();
  }

  @Test
  void tamperedNonceInClientFinalIsRefusedEvenWithAValidProof() {
    Scram.ServerExchange server =
        new Scram.ServerExchange(Scram.ClientFirst.parse(CLIENT_FIRST), rfcVerifier(), SERVER_NONCE);
    // the proof is computed over the nonce the client echoed, so changing it breaks the proof too
    assertThat(server.verify(CLIENT_FINAL.replace("k0,p=", "k1,p="))).isNull();
  }

  @Test
  void clientRefusesAServerThatCannotProveItself() {
    Scram.Client client = new Scram.Client(USER, PASSWORD, CLIENT_NONCE);
    client.clientFinal(SERVER_FIRST);
    assertThat(client.verifyServerFinal("v=" + Base64.getEncoder().encodeToString(new byte[32])))
        .isFalse();
    assertThat(client.verifyServerFinal("e=other-error")).isFalse();
  }

  @Test
  void clientRefusesANonceThatDoesNotExtendItsOwnAndTooFewIterations() {
    Scram.Client client = new Scram.Client(USER, PASSWORD, CLIENT_NONCE);
    assertThatThrownBy(() -> client.clientFinal("r=someoneElse,s=" + SALT + ",i=4096"))
        .isInstanceOf(PbException.class)
        .hasMessageContaining("nonce");
    assertThatThrownBy(() -> client.clientFinal("r=" + CLIENT_NONCE + "x,s=" + SALT + ",i=1"))
        .isInstanceOf(PbException.class)
        .hasMessageContaining("iterations");
  }

  @Test
  void userNamesAreEscapedAndParsedBack() {
    Scram.Client client = new Scram.Client("a,b=c", "pw", CLIENT_NONCE);
    assertThat(client.clientFirst()).isEqualTo("n,,n=a=2Cb=3Dc,r=" + CLIENT_NONCE);
    assertThat(Scram.ClientFirst.parse(client.clientFirst()).username()).isEqualTo("a,b=c");
  }

  @Test
  void malformedMessagesFailWithBadArgumentsSayingWhatIsWrong() {
    assertThatThrownBy(() -> Scram.ClientFirst.parse("y,,n=user,r=abc"))
        .isInstanceOf(PbException.class)
        .satisfies(e -> assertThat(((PbException) e).code()).isEqualTo(PbException.Code.BAD_ARGUMENTS))
        .hasMessageContaining("client-first");
    assertThatThrownBy(() -> Scram.ClientFirst.parse("n,,n=  ,r=abc"))
        .hasMessageContaining("blank");
    assertThatThrownBy(() -> Scram.ClientFirst.parse(null)).hasMessageContaining("missing");
    Scram.ServerExchange server =
        new Scram.ServerExchange(Scram.ClientFirst.parse(CLIENT_FIRST), rfcVerifier(), SERVER_NONCE);
    assertThatThrownBy(() -> server.verify("c=biws,r=x,p=%%%"))
        .hasMessageContaining("base64");
  }

  @Test
  void verifierRoundTripsThroughItsTextFormAndHidesItsKeys() {
    ScramVerifier v = ScramVerifier.derive(PASSWORD, Base64.getDecoder().decode(SALT), 4096);
    assertThat(ScramVerifier.parse(v.encoded())).isEqualTo(v);
    assertThat(v.encoded()).startsWith("SCRAM-SHA-256$4096:" + SALT + "$");
    assertThat(v.toString()).doesNotContain(Base64.getEncoder().encodeToString(v.storedKey()));
    assertThatThrownBy(() -> ScramVerifier.parse("SCRAM-SHA-1$4096:abc$def:ghi"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SCRAM-SHA-256");
    assertThatThrownBy(() -> ScramVerifier.derive("pw", 1000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("4096");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
