package io.pbj.internal;

/**
 * Marks a root object that lets a connection in only after login (a portal's login root): a
 * server applies its login timeout and its smaller message limit to connections whose root is a
 * login gate until they have logged in, i.e. until {@link Connection#perspective()} is set.
 *
 * <p>Thread-safety: a marker; implementations say their own.
 */
public interface LoginGate {}
