/**
 * What observability costs a call: {@link io.pbj.bench.observe.ObserveBench} runs the same
 * in-process calls with nothing watching, a listener, an interceptor, Micrometer, and a JFR
 * recording, side by side. Not a library.
 */
package io.pbj.bench.observe;
