/**
 * The broker's API: servers and clients ({@link io.pbj.PbServer}, {@link io.pbj.PbClient}),
 * remote references and calls ({@link io.pbj.Referenceable}, {@link io.pbj.RemoteReference}),
 * pass-by-copy values ({@link io.pbj.PbRegistry}), replicated objects ({@link io.pbj.Cacheable},
 * {@link io.pbj.RemoteCache}, {@link io.pbj.ObserverSet}, {@link io.pbj.UpdateFailure}), views ({@link io.pbj.Viewable}) and the one exception family
 * ({@link io.pbj.PbException}). Login is in {@link io.pbj.cred}.
 *
 * <p>Every type says its thread-safety in its class documentation. No Netty, Kryo or Guava type
 * appears in a signature of this package.
 */
package io.pbj;
