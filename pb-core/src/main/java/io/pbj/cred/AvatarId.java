package io.pbj.cred;

import java.util.Objects;

/**
 * Who logged in, as a checker established it: a user name, or {@link #ANONYMOUS}. The {@link
 * Realm} turns it into an avatar.
 *
 * <pre>{@code
 * Realm realm = (id, mind, connection) ->
 *     CompletableFuture.completedFuture(
 *         Avatar.of(id.anonymous() ? new Guest() : new Member(id.name())));
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 *
 * @param name the user name; {@code "anonymous"} for {@link #ANONYMOUS}
 * @param anonymous true only for {@link #ANONYMOUS}, so a user named "anonymous" is not confused
 *     with anonymous access
 */
public record AvatarId(String name, boolean anonymous) {
  /** The id of every anonymous login. */
  public static final AvatarId ANONYMOUS = new AvatarId("anonymous", true);

  public AvatarId {
    Objects.requireNonNull(name, "name");
  }

  /** The id of the password user {@code name}. */
  public static AvatarId user(String name) {
    return new AvatarId(Scram.checkUsername(name), false);
  }
}
