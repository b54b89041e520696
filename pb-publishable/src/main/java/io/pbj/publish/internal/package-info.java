/**
 * Publishing's implementation: not API. The wire records of the handshake and the builders'
 * shared rule; public only because {@link io.pbj.publish} uses them, and kept out of its public
 * signatures (a test checks this).
 */
package io.pbj.publish.internal;
