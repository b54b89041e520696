/**
 * The broker's implementation: not API. Its public types are public only because {@link io.pbj}
 * and {@link io.pbj.cred} use them; they may change in any release, and no public signature of
 * an API package exposes them (a test checks this). {@code docs/ARCHITECTURE.md} maps the
 * classes: the pipeline's handlers, the codec, and the connection's tables.
 */
package io.pbj.internal;
