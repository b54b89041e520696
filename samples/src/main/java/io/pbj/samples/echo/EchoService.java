package io.pbj.samples.echo;

import io.pbj.Referenceable;
import io.pbj.Remote;
import java.util.concurrent.CompletableFuture;

/**
 * The echo sample's root object and its typed client view.
 *
 * <p>Thread-safety: stateless, so safe from any number of connections.
 */
public final class EchoService implements Referenceable {
  /** The client's typed view of {@link EchoService}. */
  public interface Api {
    CompletableFuture<String> echo(String text);
  }

  @Remote
  public String echo(String text) {
    return text;
  }
}
