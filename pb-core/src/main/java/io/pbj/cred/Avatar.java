package io.pbj.cred;

import io.pbj.Referenceable;
import io.pbj.RemoteReference;
import java.util.Objects;

/**
 * What a {@link Realm} answers a login with: the perspective the client gets a reference to, and
 * what to run at logout.
 *
 * <p>The portal runs {@code logout} exactly once: when the client releases its last reference to
 * the perspective, or when the connection closes, whichever comes first (also when the login
 * fails after the realm answered, e.g. the connection closed before the avatar could be sent).
 * It runs on the server's executor; an exception it throws is logged.
 *
 * <pre>{@code
 * return CompletableFuture.completedFuture(
 *     new Avatar(new ChatUser(name, mind), () -> rooms.leaveAll(name)));
 * }</pre>
 *
 * <p>Thread-safety: immutable (the perspective itself is as thread-safe as the application makes
 * it).
 *
 * @param perspective the avatar object; the client receives a {@link RemoteReference} to it
 * @param logout run once at logout
 */
public record Avatar(Referenceable perspective, Runnable logout) {
  public Avatar {
    Objects.requireNonNull(perspective, "perspective");
    Objects.requireNonNull(logout, "logout");
  }

  /** An avatar with nothing to do at logout. */
  public static Avatar of(Referenceable perspective) {
    return new Avatar(perspective, () -> {});
  }
}
