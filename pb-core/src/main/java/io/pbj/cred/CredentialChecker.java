package io.pbj.cred;

/**
 * Decides which logins a {@link Portal} accepts, as Twisted cred's checkers do. Because a login
 * is a protocol exchange (a password never travels, so a checker cannot simply be handed the
 * credentials), the kinds are fixed: {@link PasswordChecker} for SCRAM-SHA-256 password login and
 * {@link AnonymousChecker} to allow anonymous login. A portal takes at most one of each.
 *
 * <pre>{@code
 * Portal portal = Portal.builder(realm)
 *     .checker(PasswordChecker.builder().user("alice", "secret").build())
 *     .checker(AnonymousChecker.allow())
 *     .build();
 * }</pre>
 *
 * <p>Thread-safety: implementations are immutable (a password lookup function must itself be
 * thread-safe).
 */
public sealed interface CredentialChecker permits PasswordChecker, AnonymousChecker {}
