/**
 * The store's implementation: not API. Its public types are public only because {@link
 * io.pbj.store} builds them; they may change in any release, and no public signature of an API
 * package exposes them (a test checks this).
 */
package io.pbj.store.internal;
