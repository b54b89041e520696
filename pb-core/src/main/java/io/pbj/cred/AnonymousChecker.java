package io.pbj.cred;

import io.pbj.PbException;

/**
 * Allows anonymous login: a {@link Portal} with this checker hands the {@link Realm} the avatar
 * id {@link AvatarId#ANONYMOUS} when a client logs in with {@link Credentials#anonymous()}.
 * Without it, anonymous login fails with {@link PbException.Code#UNAUTHORIZED}.
 *
 * <pre>{@code
 * Portal portal = Portal.builder(realm).checker(AnonymousChecker.allow()).build();
 * }</pre>
 *
 * <p>Thread-safety: immutable.
 */
public final class AnonymousChecker implements CredentialChecker {
  private static final AnonymousChecker INSTANCE = new AnonymousChecker();

  private AnonymousChecker() {}

  /** The checker that allows anonymous login. */
  public static AnonymousChecker allow() {
    return INSTANCE;
  }

  @Override
  public String toString() {
    return "AnonymousChecker";
  }
}
