/**
 * Login, in the shape of Twisted's cred: a {@link io.pbj.cred.Portal} with a {@link
 * io.pbj.cred.Realm} that creates avatars and the checkers that decide who may log in
 * (SCRAM-SHA-256 passwords, anonymous), the client's {@link io.pbj.cred.Login}, and the limits on
 * guessing. The protocol is described in {@code docs/LOGIN.md}.
 */
package io.pbj.cred;
