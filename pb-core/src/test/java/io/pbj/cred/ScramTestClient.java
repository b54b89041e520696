package io.pbj.cred;

/**
 * The client side of one SCRAM-SHA-256 exchange, for wire-level login tests outside this package
 * (replays, forgeries, challenges answered on another connection), which drive the login root's
 * remote methods by hand. Thread-safety: not thread-safe; one exchange, one thread at a time.
 */
public final class ScramTestClient {
  private final Scram.Client client;

  public ScramTestClient(String username, String password) {
    this.client = new Scram.Client(username, password);
  }

  /** The client-first message, {@code n,,n=USER,r=CNONCE}. */
  public String clientFirst() {
    return client.clientFirst();
  }

  /** The client-final message answering {@code serverFirst}. */
  public String clientFinal(String serverFirst) {
    return client.clientFinal(serverFirst);
  }

  /** True when {@code serverFinal} proves the server holds the verifier. */
  public boolean verifyServerFinal(String serverFinal) {
    return client.verifyServerFinal(serverFinal);
  }
}
